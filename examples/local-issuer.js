// The demo's local issuer for the examples: a JWKS on 127.0.0.1 (no outside network) and a key
// to sign tokens with, so that each example runs with one command and shows a real request.
import { startJwksServer } from '../tests/support/jwks-server.js';
import { makeSigner, nowSec } from '../tests/support/signer.js';

export const AUDIENCE = 'api://orders';

export async function startLocalIssuer() {
  const issuer = await startJwksServer();
  const signer = makeSigner('ES256', { kid: 'demo-2026-11' });
  issuer.setKeys([signer.jwk]);
  return {
    jwksUri: issuer.jwksUri,
    /** A token for the example's API, valid for 10 minutes (or already expired). */
    token: ({ expired = false, audience = AUDIENCE } = {}) => signer.sign({ sub: 'user-1', aud: audience, exp: nowSec() + (expired ? -60 : 600) }),
    close: () => issuer.close(),
  };
}

/**
 * The example's check (`--check`, run by the tests): a valid token passes, an expired one and
 * none are refused. Prints what it sees; resolves whether all went as expected.
 */
export async function checkApi(origin, issuer) {
  const call = async (authorization) => {
    const response = await fetch(`${origin}/api/orders`, { headers: authorization ? { authorization } : {} });
    return [response.status, await response.json()];
  };
  const cases = [
    ['valid token', `Bearer ${issuer.token()}`, 200],
    ['expired token', `Bearer ${issuer.token({ expired: true })}`, 401],
    ['no token', undefined, 401],
  ];
  let ok = true;
  for (const [label, authorization, expected] of cases) {
    const [status, body] = await call(authorization);
    console.log(`${label.padEnd(14)} -> ${status} ${JSON.stringify(body)}`);
    ok &&= status === expected;
  }
  return ok;
}
