// What a key set holds, for a person: describeKeySet reads a JWKS body by the cache's own rules
// (src/key_report.rs: each entry kept for which algorithms, or ignored and why) and shows each
// entry's members; matchKey says which entry a token's header selects; loadKeySet finds a set (by
// its URI, or by OpenID discovery from an issuer) and fetches it through a cache, so that
// everything the cache refuses is refused here with the same error, and the cache it returns
// verifies tokens with that set without a second request.

import { describeKeySet as readKeySet } from './wasm/jwks_cache.js';
import { createJwksCache } from './cache.js';
import { joined } from './fetch-jwks.js';
import { inCore, toPublicError, JwksArgumentError } from './errors.js';
import { ALGORITHMS } from './key-views.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The cache's default bound on a response body: a larger one would stay in wasm memory for good. */
const DEFAULT_MAX_BYTES = 512 * 1024;

/**
 * @param {string | Uint8Array} body a JWKS response body
 * @param {{ maxKeys?: number, maxResponseBytes?: number }} [options] the cache's bounds on entries
 *   (default 100) and bytes (default 512 KiB): a body past them is refused as a response would be
 * @returns {{ isJwkSet: boolean, entries: Array<{ index: number, kid: string | null, kty: string | null,
 *   alg: string | null, use: string | null, crv: string | null, bits: number | null, algorithms: string[],
 *   ignored: string | null }> }}
 */
export function describeKeySet(body, options = {}) {
  let maxKeys, maxBytes;
  try {
    maxKeys = options?.maxKeys ?? 100;
    maxBytes = options?.maxResponseBytes ?? DEFAULT_MAX_BYTES;
  } catch (cause) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
  }
  if (!(Number.isInteger(maxKeys) && maxKeys >= 1 && maxKeys <= 1000)) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: maxKeys must be a whole number from 1 to 1000');
  }
  if (!(Number.isInteger(maxBytes) && maxBytes >= 1 && maxBytes <= 16 * 1024 * 1024)) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: maxResponseBytes must be a whole number from 1 to 16777216');
  }
  // A string longer than the bound in UTF-16 units is longer in UTF-8 too: refused before it is encoded.
  const tooLarge = () => toPublicError({ code: 'ERR_JWKS_RESPONSE_TOO_LARGE', message: `JWKS response is larger than ${maxBytes} bytes` });
  if (typeof body === 'string' && body.length > maxBytes) throw tooLarge();
  const bytes = typeof body === 'string' ? utf8Encoder.encode(body) : body;
  if (!(bytes instanceof Uint8Array)) throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the body must be a string or a Uint8Array');
  if (bytes.byteLength > maxBytes) throw tooLarge();
  const [isJwkSet, flat] = inCore(() => readKeySet(bytes, maxKeys));
  const entries = [];
  for (let at = 0; at < flat.length; at += 5) {
    const member = memberReader(JSON.parse(utf8.decode(bytes.subarray(flat[at + 1], flat[at + 2]))));
    entries.push({
      index: flat[at],
      kid: member('kid'),
      kty: member('kty'),
      alg: member('alg'),
      use: member('use'),
      crv: member('crv'),
      bits: member('kty') === 'RSA' ? modulusBits(member('n')) : null,
      algorithms: ALGORITHMS.filter((_, bit) => (flat[at + 3] >> bit) & 1),
      ignored: flat[at + 4] ?? null,
    });
  }
  return { isJwkSet, entries };
}

/** A string member of a parsed entry, or null (any entry may be anything: `5`, `null`, `[]`). */
function memberReader(entry) {
  return (name) => (entry !== null && typeof entry === 'object' && typeof entry[name] === 'string' ? entry[name] : null);
}

/** The size of an RSA modulus in bits, from its base64url text (null when that is not base64url). */
function modulusBits(n) {
  if (n === null || !/^[A-Za-z0-9_-]{2,}$/.test(n)) return null;
  const bytes = Math.floor((n.length * 3) / 4);
  const first = ((BASE64URL.indexOf(n[0]) << 2) | (BASE64URL.indexOf(n[1]) >> 4)) & 0xff;
  return (bytes - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first));
}

/**
 * The entry a token with this header selects, as verification selects it: by `kid` (the usable
 * entry with that kid, else the first with it, to show why it cannot verify); without a kid, the
 * single usable entry that verifies its `alg`. Null when none is.
 */
export function matchKey(keySet, header) {
  if (!Array.isArray(keySet?.entries)) throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: matchKey takes what describeKeySet returned');
  const kid = typeof header?.kid === 'string' ? header.kid : undefined;
  if (kid !== undefined) {
    const named = keySet.entries.filter((entry) => entry.kid === kid);
    return named.find((entry) => entry.ignored === null) ?? named[0] ?? null;
  }
  const able = keySet.entries.filter((entry) => entry.ignored === null && entry.algorithms.includes(header?.alg));
  return able.length === 1 ? able[0] : null;
}

/**
 * Finds and fetches a key set: `{ jwksUri }`, or `{ issuer }` for OpenID discovery. Rejects with
 * the cache's errors, each carrying `uri`, the URL that failed; resolves to the URI, the cache
 * that fetched it (for `verify`; close it when done) and the set described.
 * @param {{ jwksUri?: string, issuer?: string }} source
 * @param {object} [cacheOptions] options of the cache that fetches it (its `fetch`, `timeoutMs`...;
 *   a `store` is not used)
 */
export async function loadKeySet(source, cacheOptions = {}) {
  let given, issuer, options;
  try {
    ({ jwksUri: given, issuer } = source);
    options = { ...cacheOptions };
  } catch (cause) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: loadKeySet takes { jwksUri } or { issuer }, and an options object', { cause });
  }
  if ((given === undefined) === (issuer === undefined) || cacheOptions === null) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: give loadKeySet a jwksUri or an issuer');
  }
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  if (typeof fetchImpl !== 'function') throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: fetch must be a function');
  let jwksUri;
  let received;
  // The bytes the cache reads of the JWKS response are recorded as they pass, so that the set
  // described is exactly the one it accepted; a response it stops reading (too large, timed out)
  // is cancelled through, and its connection released, as without the recording.
  const recording = async (input, init) => {
    const response = await fetchImpl(input, init);
    if (input !== jwksUri || !(response?.status >= 200 && response.status <= 299) || !(response.body instanceof ReadableStream)) return response;
    const chunks = [];
    received = chunks;
    const record = new TransformStream({
      transform(chunk, controller) {
        if (ArrayBuffer.isView(chunk)) chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(record), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  // Never with a store: the set described is the one the issuer serves now, and fetched here.
  const cache = createJwksCache({ ...options, store: undefined, fetch: recording });
  try {
    jwksUri = given ?? (await cache.discover(issuer));
    await cache.forceRefresh(jwksUri);
    if (received === undefined) {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: loadKeySet needs a fetch whose responses have a body stream');
    }
    const keySet = describeKeySet(joined(received), { maxKeys: options.maxKeys, maxResponseBytes: options.maxResponseBytes });
    return { jwksUri, ...(issuer === undefined ? {} : { issuer }), cache, keySet };
  } catch (error) {
    cache.close();
    if (error instanceof Error && error.uri === undefined && jwksUri !== undefined) error.uri = jwksUri;
    throw error;
  }
}
