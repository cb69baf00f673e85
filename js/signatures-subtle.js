// Signatures with WebCrypto (crypto.subtle): Workers, browsers, and any runtime without
// node:crypto. A CryptoKey is imported once per key and algorithm (WebCrypto binds a key to its
// algorithm), and kept in the view until the set changes.

import { publicJwk } from './signatures.js';

const pkcs1 = (hash) => ({ import: { name: 'RSASSA-PKCS1-v1_5', hash }, verify: { name: 'RSASSA-PKCS1-v1_5' } });
const pss = (hash, saltLength) => ({ import: { name: 'RSA-PSS', hash }, verify: { name: 'RSA-PSS', saltLength } });
const ecdsa = (namedCurve, hash) => ({ import: { name: 'ECDSA', namedCurve }, verify: { name: 'ECDSA', hash } });

/** Import and verify parameters per algorithm, in the order of ALGORITHMS. */
const PARAMETERS = [
  pkcs1('SHA-256'),
  pkcs1('SHA-384'),
  pkcs1('SHA-512'),
  pss('SHA-256', 32),
  pss('SHA-384', 48),
  pss('SHA-512', 64),
  ecdsa('P-256', 'SHA-256'),
  ecdsa('P-384', 'SHA-384'),
  ecdsa('P-521', 'SHA-512'),
  { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
];

/** The bytes of a string whose characters are bytes (the signing input is ASCII), as node:crypto's latin1 reads it. */
function latin1(text) {
  const bytes = new Uint8Array(text.length);
  for (let at = 0; at < text.length; at++) bytes[at] = text.charCodeAt(at);
  return bytes;
}

export const subtleSignatures = {
  importKey(jwk, alg) {
    return crypto.subtle.importKey('jwk', publicJwk(jwk), PARAMETERS[alg].import, false, ['verify']);
  },
  /** The core checked the text is canonical base64url, so atob (forgiving base64) reads it exactly. */
  signatureBytes(text) {
    return latin1(atob(text.replaceAll('-', '+').replaceAll('_', '/')));
  },
  verify(key, alg, signedText, signature) {
    return crypto.subtle.verify(PARAMETERS[alg].verify, key, signature, latin1(signedText));
  },
};
