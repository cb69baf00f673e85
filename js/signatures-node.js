// Signatures with node:crypto: synchronous, one KeyObject per key (kept in the view until the set
// changes), the parameters per algorithm fixed here; or, with the cache's `offloadSignatures`, on
// libuv's thread pool (the callback form), so that a busy server checks them beside its event loop. ECDSA signatures are r || s (ieee-p1363), as
// JWS has them, never DER (ATTACKS.md D2).

import { constants, createPublicKey, verify } from 'node:crypto';
import { publicJwk } from './signatures.js';

const pkcs1 = { padding: constants.RSA_PKCS1_PADDING };
const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
const p1363 = { dsaEncoding: 'ieee-p1363' };

/** [digest, options] per algorithm, in the order of ALGORITHMS. */
const PARAMETERS = [
  ['sha256', pkcs1],
  ['sha384', pkcs1],
  ['sha512', pkcs1],
  ['sha256', pss],
  ['sha384', pss],
  ['sha512', pss],
  ['sha256', p1363],
  ['sha384', p1363],
  ['sha512', p1363],
  [null, {}],
];

export const nodeSignatures = {
  importKey(jwk) {
    return createPublicKey({ key: publicJwk(jwk), format: 'jwk' });
  },
  /** The core checked the text is canonical base64url, so Node's lenient decoder reads it exactly. */
  signatureBytes(text) {
    return Buffer.from(text, 'base64url');
  },
  verify(key, alg, signedText, signature) {
    const [digest, options] = PARAMETERS[alg];
    return verify(digest, Buffer.from(signedText, 'latin1'), { key, ...options }, signature);
  },
  /** The same check on the thread pool: a promise of the answer. */
  verifyOffThread(key, alg, signedText, signature) {
    const [digest, options] = PARAMETERS[alg];
    return new Promise((resolve, reject) => {
      verify(digest, Buffer.from(signedText, 'latin1'), { key, ...options }, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
    });
  },
};
