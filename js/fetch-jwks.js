// The one place that talks to the network: a GET of the JWKS URI through the host's `fetch`,
// bounded by a timeout. It never throws: it reports what happened, and the core decides what that
// means for the cache.

/**
 * @typedef {{ status: number, body: Uint8Array }} JwksResponse
 * @typedef {{ failed: true, timedOut: boolean, detail: string }} JwksFailure
 * @returns {Promise<JwksResponse | JwksFailure>}
 */
export async function fetchJwks(fetchImpl, uri, timeoutMs) {
  const controller = new AbortController();
  let timer;
  // Raced rather than trusted to the signal alone: a custom fetch may ignore it, and the body
  // read counts against the same budget.
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ failed: true, timedOut: true, detail: '' });
    }, timeoutMs);
  });
  try {
    return await Promise.race([request(fetchImpl, uri, controller.signal), timedOut]);
  } catch (error) {
    return { failed: true, timedOut: false, detail: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

const NO_BODY = new Uint8Array(0);
const HEADERS = { accept: 'application/json' };

// The cache keeps sets itself; a refetch (above all the one on an unknown kid, for key rotation)
// must reach the issuer, not a browser's HTTP cache honouring the JWKS's max-age. workerd before
// its `cache_option_enabled` compatibility flag refuses the member: then it is dropped for good.
let noStoreRefused = false;

async function request(fetchImpl, uri, signal) {
  let response;
  try {
    response = await fetchImpl(uri, noStoreRefused ? { signal, headers: HEADERS } : { signal, headers: HEADERS, cache: 'no-store' });
  } catch (error) {
    if (noStoreRefused || !/'cache'/.test(error?.message)) throw error;
    noStoreRefused = true;
    return request(fetchImpl, uri, signal);
  }
  if (!response.ok) {
    // Only the status matters; release the connection instead of reading an error page.
    response.body?.cancel().catch(() => {});
    return { status: response.status, body: NO_BODY };
  }
  return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
}

function describe(error) {
  const cause = error?.cause;
  const detail = cause?.code ?? cause?.message;
  const message = error?.message ?? String(error);
  return detail ? `${message}: ${detail}` : message;
}
