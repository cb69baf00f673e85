// Which engine checks signatures: the host's own crypto, several times faster than crypto
// compiled to wasm. Each runtime entry installs the fastest it has (node.js: node:crypto;
// workers.js and browser.js: crypto.subtle) before anything can verify.
//
// A backend is { importKey(jwk, alg), signatureBytes(text), verify(key, alg, signedText, signature) }:
// - importKey turns a public JWK into the host's key for the algorithm `alg` (an index into
//   ALGORITHMS), or throws when the host refuses it (an EC point off its curve, say);
// - signatureBytes decodes the signature segment, which the core checked is canonical base64url;
// - verify answers true or false (or a promise of it); the signed text is ASCII (base64url and
//   one dot), so its characters are its bytes;
// - verifyOffThread (optional) answers a promise of the same, computed off the event loop: used
//   when the cache has `offloadSignatures` (node:crypto's callback form; crypto.subtle is
//   asynchronous already).

let backend;

export function installSignatures(chosen) {
  backend = chosen;
}

export function signatures() {
  return backend;
}

/** The public members of a JWK, and nothing else, for the host to import. */
export function publicJwk(jwk) {
  switch (jwk.kty) {
    case 'RSA':
      return { kty: 'RSA', n: jwk.n, e: jwk.e };
    case 'EC':
      return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
    default:
      return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  }
}
