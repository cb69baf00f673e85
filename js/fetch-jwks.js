// The one place that talks to the network: a GET of the JWKS URI through the host's `fetch`,
// bounded in time and in size. It never throws: it reports what happened, and the core decides
// what that means for the cache.

import { describe } from './errors.js';

/**
 * @typedef {{ status: number, body: Uint8Array, retryAfter?: string, cacheControl?: string }} JwksResponse
 * @typedef {{ failed: 'network' | 'timeout' | 'too-large' | 'redirect', detail: string }} JwksFailure
 * @returns {Promise<JwksResponse | JwksFailure>}
 */
export async function fetchJwks(fetchImpl, uri, { timeoutMs, maxBytes, quirks }) {
  const controller = new AbortController();
  let timer;
  // Raced rather than trusted to the signal alone: a custom fetch may ignore it, and the body
  // read counts against the same budget.
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ failed: 'timeout', detail: '' });
    }, timeoutMs);
  });
  try {
    return await Promise.race([request(fetchImpl, uri, controller.signal, maxBytes, quirks), timedOut]);
  } catch (error) {
    return { failed: 'network', detail: describeNetworkError(error) };
  } finally {
    clearTimeout(timer);
  }
}

const NO_BODY = new Uint8Array(0);
const HEADERS = { accept: 'application/json' };
const TOO_LARGE = { failed: 'too-large', detail: '' };
const REDIRECTED = { failed: 'redirect', detail: '' };

// The cache keeps sets itself; a refetch (above all the one on an unknown kid, for key rotation)
// must reach the issuer, not a browser's HTTP cache honouring the JWKS's max-age. workerd before
// its `cache_option_enabled` compatibility flag refuses the member, throwing an Error with exactly
// this message (a plain Error, not a TypeError): then the cache that saw it (`quirks`, one per
// cache, so that one cache's custom fetch decides nothing for another) leaves it out from then on.
// Recognised by the whole message and nothing less: no other failure, whatever it quotes, may
// switch `no-store` off.
const CACHE_MEMBER_REFUSED = "The 'cache' field on 'RequestInitializerDict' is not implemented.";

async function request(fetchImpl, uri, signal, maxBytes, quirks) {
  let response;
  try {
    // Redirects are not followed (ATTACKS.md B5): a 3xx comes back as it is (a browser hides it
    // as an opaque redirect), and the core refuses it.
    const init = quirks.noStoreRefused
      ? { signal, headers: HEADERS, redirect: 'manual' }
      : { signal, headers: HEADERS, redirect: 'manual', cache: 'no-store' };
    response = await fetchImpl(uri, init);
  } catch (error) {
    if (quirks.noStoreRefused || !isCacheMemberRefusal(error)) throw error;
    quirks.noStoreRefused = true;
    return request(fetchImpl, uri, signal, maxBytes, quirks);
  }
  if (response.type === 'opaqueredirect') return REDIRECTED;
  // Anything but a number (a custom fetch may give anything) goes to the core as NaN: not a status.
  const status = typeof response.status === 'number' ? response.status : NaN;
  if (!(status >= 200 && status <= 299)) {
    // Only the status (and when to try again) matters; release the connection instead of
    // reading an error page.
    response.body?.cancel().catch(() => {});
    return { status, body: NO_BODY, retryAfter: headerOf(response, 'retry-after') };
  }
  const body = await readBounded(response, maxBytes, signal);
  return body === undefined ? TOO_LARGE : { status, body, cacheControl: headerOf(response, 'cache-control') };
}

/** A header, bounded, or undefined (a custom fetch's response may have no headers). */
function headerOf(response, name) {
  try {
    const value = response.headers?.get(name);
    return typeof value === 'string' ? value.slice(0, 256) : undefined;
  } catch {
    return undefined;
  }
}

function isCacheMemberRefusal(error) {
  return error instanceof Error && error.message === CACHE_MEMBER_REFUSED;
}

// A stream may answer every read at once (a custom fetch's, with empty chunks, say): reading it
// would then never leave the microtask queue, and the timeout, a timer, could never fire. Every
// so many reads the loop yields to the timers.
const READS_BETWEEN_YIELDS = 256;

/**
 * A copy of the body's bytes (decoded from any Content-Encoding, as `fetch` delivers them), or
 * undefined as soon as they pass `maxBytes`: the rest is never read. Always a copy in a buffer of
 * our own, so that what the core parses and what JSON.parse reads afterwards are the same bytes
 * (a stream's chunks may be views of memory that someone else can still change).
 */
async function readBounded(response, maxBytes, signal) {
  if (!response.body) {
    // A custom fetch may hand back a Response-like object without a stream.
    const whole = new Uint8Array(await response.arrayBuffer());
    return whole.byteLength > maxBytes ? undefined : whole.slice();
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (let reads = 1; ; reads++) {
    if (reads % READS_BETWEEN_YIELDS === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    if (signal.aborted) {
      reader.cancel().catch(() => {});
      throw new Error('timed out');
    }
    const { done, value } = await reader.read();
    if (done) break;
    if (!ArrayBuffer.isView(value)) throw new TypeError('the response body stream gave something other than bytes');
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    // Copied as it comes: a stream may hand out the same buffer again, refilled.
    if (value.byteLength > 0) chunks.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice());
  }
  return joined(chunks);
}

/** The chunks of a body, one after another in one buffer. */
export function joined(chunks) {
  const body = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function describeNetworkError(error) {
  try {
    const cause = error?.cause;
    const detail = cause?.code ?? cause?.message;
    const message = describe(error);
    return detail ? `${message}: ${describe(detail)}` : message;
  } catch {
    return 'unprintable error';
  }
}
