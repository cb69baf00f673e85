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

async function request(fetchImpl, uri, signal) {
  const response = await fetchImpl(uri, { signal, headers: { accept: 'application/json' } });
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
