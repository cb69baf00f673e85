// A real OpenID Provider (panva's oidc-provider) on 127.0.0.1 for the discovery tests: it serves
// /.well-known/openid-configuration and its JWKS, and issues JWT access tokens by the
// client-credentials grant, for a resource (the audience) named by RFC 8707 resource indicators.
//
//   const op = await startOidcIssuer();            // { alg: 'ES256' | 'RS256', audience, accessTokenTTL }
//   op.issuer          // http://127.0.0.1:<port>
//   op.discoveryUri    // <issuer>/.well-known/openid-configuration
//   op.jwksUri         // <issuer>/jwks
//   await op.getToken()                             // a JWT: iss op.issuer, aud 'https://api.example'
//   await op.getToken({ audience: 'https://other.example', scope: 'api:read' })
//   op.kids            // kids served, the signing one first
//   await op.rotateKeys()                           // new signing key, the old one kept after it; its kid
//   await op.close()
//
// rotateKeys() restarts the provider (a new Provider instance, as a real deployment would on a key
// change) on the same port: the HTTP server stays and hands requests to the new instance, so the
// port cannot be lost and open keep-alive connections carry on. oidc-provider signs with the first
// key of its JWKS that fits the algorithm, so new tokens carry the new kid; tokens issued before
// still verify against the old key, which stays published (only the one before: a second rotation
// drops the oldest, unless { keepOld: n }).
//
// Notes on the configuration, found in oidc-provider 9.13's source:
// - http issuers work as they are: nothing in the token, discovery or JWKS endpoints insists on
//   https (it only makes cookies non-secure, and there are no cookies in this flow) and nothing
//   reads NODE_ENV.
// - A resource server's accessTokenFormat 'jwt' is what makes access tokens JWTs (opaque otherwise);
//   getResourceServerInfo must return a `scope` string, even an empty one.
// - 9.x warns "Unsupported runtime. Use Node.js v22.x LTS" on Node 20 when imported. It runs on
//   Node 20 (every newer API it calls is there: URL.parse, crypto.hash); that one warning is hidden.
// - The default in-memory adapter prints a MUST-change warning; a tiny Map adapter here avoids it
//   (JWT access tokens are not stored anyway).

import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { rsaKeyPair } from './rsa-keys.js';

export const DEFAULT_AUDIENCE = 'https://api.example';
export const CLIENT_ID = 'jwks-cache-tests';
export const CLIENT_SECRET = 'jwks-cache-tests-secret';

let providerModule;
async function loadProvider() {
  if (!providerModule) {
    const warn = console.warn;
    console.warn = (...args) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      providerModule = await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  }
  return providerModule.default;
}

/** A private JWK with a kid, for the provider's keystore. */
function makePrivateJwk(alg) {
  // RSA keys come from a fixed set (rsa-keys.js): generating them can deadlock Node 20.20.
  const jwk = alg === 'RS256' ? rsaKeyPair().privateJwk : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `op-${randomUUID()}`, alg, use: 'sig' };
}

/** The smallest adapter oidc-provider accepts: a Map per model, expiry ignored. */
function mapAdapter() {
  const stores = new Map();
  return class MapAdapter {
    constructor(model) {
      if (!stores.has(model)) stores.set(model, new Map());
      this.store = stores.get(model);
    }
    async upsert(id, payload) { this.store.set(id, payload); }
    async find(id) { return this.store.get(id); }
    async findByUid(uid) { return [...this.store.values()].find((p) => p.uid === uid); }
    async findByUserCode(code) { return [...this.store.values()].find((p) => p.userCode === code); }
    async consume(id) { const p = this.store.get(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }
    async destroy(id) { this.store.delete(id); }
    async revokeByGrantId(grantId) {
      for (const [id, p] of this.store) if (p.grantId === grantId) this.store.delete(id);
    }
  };
}

/**
 * @param {object} [options]
 * @param {'ES256'|'RS256'} [options.alg] access-token signing algorithm (default ES256)
 * @param {string} [options.audience] the default resource, i.e. the tokens' aud
 * @param {number} [options.accessTokenTTL] seconds (default 600)
 */
export async function startOidcIssuer({ alg = 'ES256', audience = DEFAULT_AUDIENCE, accessTokenTTL = 600 } = {}) {
  const Provider = await loadProvider();
  let keys = [makePrivateJwk(alg)];
  let provider;
  let handler = (req, res) => res.writeHead(503).end();

  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  function build() {
    provider = new Provider(issuer, {
      adapter: mapAdapter(),
      jwks: { keys },
      clients: [{
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      }],
      // The provider signs ID tokens with this by default; keep it to the key type it has.
      clientDefaults: { id_token_signed_response_alg: alg },
      scopes: ['api:read', 'api:write'],
      // The default is the same, but announces itself on every token ("you SHOULD change it").
      ttl: { ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || accessTokenTTL },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (ctx, resourceIndicator) => ({
            scope: 'api:read api:write',
            audience: resourceIndicator,
            accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          }),
        },
      },
    });
    handler = provider.callback();
  }
  build();

  const jwksUri = `${issuer}/jwks`;
  const discoveryUri = `${issuer}/.well-known/openid-configuration`;
  const tokenEndpoint = `${issuer}/token`;

  return {
    issuer,
    jwksUri,
    discoveryUri,
    tokenEndpoint,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    get kids() {
      return keys.map((k) => k.kid);
    },
    get provider() {
      return provider;
    },
    /** A JWT access token for `audience` (default: the one given to startOidcIssuer). */
    async getToken({ audience: resource = audience, scope } = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource });
      if (scope) body.set('scope', scope);
      const res = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      const json = await res.json();
      if (!res.ok || typeof json.access_token !== 'string') {
        throw new Error(`token request failed: ${res.status} ${JSON.stringify(json)}`);
      }
      return json.access_token;
    },
    /** Restarts the provider with a new signing key first; keeps `keepOld` old keys after it. */
    async rotateKeys({ keepOld = 1 } = {}) {
      const next = makePrivateJwk(alg);
      keys = [next, ...keys.slice(0, keepOld)];
      build();
      return next.kid;
    },
    async close() {
      handler = (req, res) => res.writeHead(503).end();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
