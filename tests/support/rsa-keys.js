// RSA-2048 key pairs for the tests, taken in turn from a fixed set of 32 (tests/data/rsa-keys.json,
// written by make-rsa-keys.js), so that consecutive calls give different keys. The tests never
// generate an RSA key: Node 20.20 can deadlock for good when a garbage collection runs while it
// exports a freshly generated one as a JWK (the main thread waits in ~KeyGenJob on a mutex the
// export holds), about once in a few hundred keys, which hung `make test` instead of failing it.
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';

const PRIVATE_JWKS = JSON.parse(readFileSync(new URL('../data/rsa-keys.json', import.meta.url), 'utf8'));
let next = 0;

/** The next RSA key pair: { privateKey, publicKey } (KeyObjects), its public JWK and its private JWK. */
export function rsaKeyPair() {
  const privateJwk = PRIVATE_JWKS[next++ % PRIVATE_JWKS.length];
  const publicJwk = { kty: 'RSA', n: privateJwk.n, e: privateJwk.e };
  return {
    privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }),
    publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }),
    publicJwk,
    privateJwk: { ...privateJwk },
  };
}
