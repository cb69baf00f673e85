// The one place that talks to the network: a GET of the JWKS URI through the host's `fetch`,
// bounded in time and in size. It never throws: it reports what happened, and the core decides
// what that means for the cache.

import { describe } from './errors.js';

/**
 * @typedef {{ status: number, body: Uint8Array }} JwksResponse
 * @typedef {{ failed: 'network' | 'timeout' | 'too-large', detail: string }} JwksFailure
 * @returns {Promise<JwksResponse | JwksFailure>}
 */
export async function fetchJwks(fetchImpl, uri, { timeoutMs, maxBytes }) {
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
    return await Promise.race([request(fetchImpl, uri, controller.signal, maxBytes), timedOut]);
  } catch (error) {
    return { failed: 'network', detail: describeNetworkError(error) };
  } finally {
    clearTimeout(timer);
  }
}

const NO_BODY = new Uint8Array(0);
const HEADERS = { accept: 'application/json' };
const TOO_LARGE = { failed: 'too-large', detail: '' };

// The cache keeps sets itself; a refetch (above all the one on an unknown kid, for key rotation)
// must reach the issuer, not a browser's HTTP cache honouring the JWKS's max-age. workerd before
// its `cache_option_enabled` compatibility flag refuses the member, throwing an Error with exactly
// this message (a plain Error, not a TypeError): then it is dropped for the rest of the process (a
// property of the runtime, so recognised by the whole message and nothing less: no other
// failure, whatever it quotes, may switch `no-store` off).
const CACHE_MEMBER_REFUSED = "The 'cache' field on 'RequestInitializerDict' is not implemented.";
let noStoreRefused = false;

async function request(fetchImpl, uri, signal, maxBytes) {
  let response;
  try {
    response = await fetchImpl(uri, noStoreRefused ? { signal, headers: HEADERS } : { signal, headers: HEADERS, cache: 'no-store' });
  } catch (error) {
    if (noStoreRefused || !isCacheMemberRefusal(error)) throw error;
    noStoreRefused = true;
    return request(fetchImpl, uri, signal, maxBytes);
  }
  // Anything but a number (a custom fetch may give anything) goes to the core as NaN: not a status.
  const status = typeof response.status === 'number' ? response.status : NaN;
  if (!(status >= 200 && status <= 299)) {
    // Only the status matters; release the connection instead of reading an error page.
    response.body?.cancel().catch(() => {});
    return { status, body: NO_BODY };
  }
  const body = await readBounded(response, maxBytes);
  return body === undefined ? TOO_LARGE : { status, body };
}

function isCacheMemberRefusal(error) {
  return error instanceof Error && error.message === CACHE_MEMBER_REFUSED;
}

/**
 * The body's bytes (decoded from any Content-Encoding, as `fetch` delivers them), or undefined
 * as soon as they pass `maxBytes`: the rest is never read.
 */
async function readBounded(response, maxBytes) {
  if (!response.body) {
    // A custom fetch may hand back a Response-like object without a stream.
    const whole = new Uint8Array(await response.arrayBuffer());
    return whole.byteLength > maxBytes ? undefined : whole;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!ArrayBuffer.isView(value)) throw new TypeError('the response body stream gave something other than bytes');
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
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
