// Key pairs and token signing for the verification tests and benchmarks: real keys made with
// node:crypto, the public half as a JWK to serve from tests/support/jwks-server.js (setKeys), the
// private half to sign tokens with.
//
//   const signer = makeSigner('ES256', { kid: 'k1' });
//   issuer.setKeys([signer.jwk]);
//   const token = signer.sign({ sub: 'a', exp: nowSec() + 60 });          // header { alg, kid }
//   signer.sign(claims, { header: { typ: 'JWT' } })                       // extra header members
//   signer.signRaw(headerObjectOrText, payloadText)                       // any header/payload text

import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { rsaKeyPair } from './rsa-keys.js';

/** Key generation per algorithm. */
const KEYS = {
  RS256: ['rsa', { modulusLength: 2048 }],
  RS384: ['rsa', { modulusLength: 2048 }],
  RS512: ['rsa', { modulusLength: 2048 }],
  PS256: ['rsa', { modulusLength: 2048 }],
  PS384: ['rsa', { modulusLength: 2048 }],
  PS512: ['rsa', { modulusLength: 2048 }],
  ES256: ['ec', { namedCurve: 'P-256' }],
  ES384: ['ec', { namedCurve: 'P-384' }],
  ES512: ['ec', { namedCurve: 'P-521' }],
  EdDSA: ['ed25519', {}],
};

export const ALGORITHMS = Object.keys(KEYS);

const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
const p1363 = { dsaEncoding: 'ieee-p1363' };
/** [digest, options] per algorithm. */
const SIGNING = {
  RS256: ['sha256', {}],
  RS384: ['sha384', {}],
  RS512: ['sha512', {}],
  PS256: ['sha256', pss],
  PS384: ['sha384', pss],
  PS512: ['sha512', pss],
  ES256: ['sha256', p1363],
  ES384: ['sha384', p1363],
  ES512: ['sha512', p1363],
  EdDSA: [null, {}],
};

export const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
export const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * @param {string} alg one of ALGORITHMS
 * @param {{ kid?: string | null, jwkMembers?: object }} [options] kid null: the JWK and tokens have none;
 *   jwkMembers: extra members of the served JWK (alg, use, key_ops...). By default the JWK carries `alg`.
 */
export function makeSigner(alg, { kid = `${alg}-${Math.random().toString(36).slice(2, 10)}`, jwkMembers = { alg } } = {}) {
  // RSA keys come from a fixed set (rsa-keys.js): generating them can deadlock Node 20.20.
  const rsa = KEYS[alg][0] === 'rsa' ? rsaKeyPair() : null;
  const { publicKey, privateKey } = rsa ?? generateKeyPairSync(...KEYS[alg]);
  const jwk = { ...(rsa?.publicJwk ?? publicKey.export({ format: 'jwk' })), ...(kid === null ? {} : { kid }), ...jwkMembers };
  const [digest, options] = SIGNING[alg];
  const signBytes = (input) => sign(digest, Buffer.from(input), { key: privateKey, ...options });
  return {
    alg,
    kid,
    jwk,
    publicKey,
    privateKey,
    /** Signs the signing input `text` (header.payload) and returns the signature bytes. */
    signBytes,
    /** A token with header { alg, kid } plus `header`, and `claims` as payload. */
    sign(claims, { header = {} } = {}) {
      const fullHeader = { alg, ...(kid === null ? {} : { kid }), ...header };
      return this.signRaw(JSON.stringify(fullHeader), JSON.stringify(claims));
    },
    /** A token of exactly these header and payload texts (strings), signed. */
    signRaw(headerText, payloadText) {
      const input = `${b64url(headerText)}.${b64url(payloadText)}`;
      return `${input}.${b64url(signBytes(input))}`;
    },
  };
}
