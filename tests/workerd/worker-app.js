// A Worker using jwks-cache as production code would: one cache per isolate, shared by all the
// requests it serves. Bundled by the test with esbuild and the `workerd` condition, like Wrangler.
//   GET /key?uri=&kid=&waitUntil=1
//                          -> { jwk, frozen } or 500 { error: { name, code, message, status,
//                             isCacheError, wasmTrap } }; waitUntil=1 passes the call
//                             { waitUntil: ctx.waitUntil.bind(ctx) } for its background refresh
//   POST /verify           -> body { token, options, api }: `cache.verify(token, options)` on the
//                             module-level cache (api 'verifyToken': `verifyToken(token,
//                             options.jwksUri, options)`, the package's own shared cache);
//                             options.currentDate, when given, is ms since the epoch.
//                             -> { payload, protectedHeader, key, keyFrozen } or 500 { error }
//   GET /reset?timeoutMs=&ttlMs=&maxStaleMs=&maxRetries=&refetchCooldownMs=&maxEntries=
//              &maxResponseBytes=&refuseCurve=
//                          -> a new cache with those options; sets the simulated clock back to
//                             real time; forgets the recorded fetches and crypto calls;
//                             refuseCurve=P-521 makes crypto.subtle.importKey refuse that curve
//                             from then on, as a runtime without it would
//   GET /clock?advance=MS  -> moves the simulated clock (the cache's `now`: Date.now() plus an
//                             offset) MS ms ahead: { now }, the cache's time after the move
//   GET /status?uri=       -> cache.status(uri) (lastError as { name, code, message, status }),
//                             or null
//   GET /crypto-calls      -> { importKey, verify }: calls of crypto.subtle's since the last reset
//   GET /clear             -> cache.clear()
//   GET /fetches           -> [{ url, cache }]: each call of the runtime's fetch since the last
//                             reset, with the `cache` member the package passed (null: none)
//   POST /inspect          -> body { token, jwksUri?, issuer? }: inspectToken(token), then
//                             loadKeySet({ jwksUri } | { issuer }), matchKey, and verify with the
//                             cache it returned: { inspected, jwksUri, keySet, match, payload } or
//                             500 { error, fix } (fix: explainError's sentence)
//   GET /exhaust-memory    -> grows the wasm memory the package runs in as far as the runtime lets
//                             it, so that the core's allocator cannot grow it any further:
//                             { pagesBefore, pagesAfter } (64 KiB pages)
import { createJwksCache, verifyToken, JwksCacheError, inspectToken, loadKeySet, matchKey, explainError } from 'jwks-cache';
// The package's own wasm-bindgen glue, by file (its `exports` do not offer it): esbuild resolves
// the node_modules link to the same file the package imports, so this is the same module instance.
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';
import { exhaustWasmMemory } from '../support/wasm-trap.js';

// The cache's clock: real time plus an offset the tests move forward (/clock), so that minutes
// of TTL, backoff and stale window pass in a moment while fetches and timeouts run in real time.
let offsetMs = 0;
const now = () => Date.now() + offsetMs;

let cache = createJwksCache({ now });

// The package looks globalThis.fetch up on each call: this records what it asks the runtime for.
const fetches = [];
const runtimeFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  fetches.push({ url: String(input instanceof Request ? input.url : input), cache: init?.cache ?? null });
  return runtimeFetch.call(globalThis, input, init);
};

// The package looks crypto.subtle's methods up on each call too: this counts the signature work,
// so that a test sees a key imported once and a remembered token answered without a signature
// check. `refuseCurve` stands in for a runtime whose WebCrypto lacks that curve: its importKey
// rejects with the NotSupportedError such a runtime gives.
const cryptoCalls = { importKey: 0, verify: 0 };
let refuseCurve = null;
const subtle = crypto.subtle;
const { importKey, verify } = subtle;
subtle.importKey = function (format, keyData, algorithm, ...rest) {
  cryptoCalls.importKey += 1;
  if (refuseCurve !== null && algorithm?.namedCurve === refuseCurve) {
    return Promise.reject(new DOMException(`Unrecognized or unimplemented EC curve "${refuseCurve}" requested.`, 'NotSupportedError'));
  }
  return importKey.call(this, format, keyData, algorithm, ...rest);
};
subtle.verify = function (...args) {
  cryptoCalls.verify += 1;
  return verify.apply(this, args);
};

function describeError(error) {
  const { name, code, message, status } = error;
  // Present only when the cause is a trap of the wasm core (JSON leaves out undefined).
  const wasmTrap = error?.cause instanceof WebAssembly.RuntimeError || undefined;
  return { error: { name, code, message, status, isCacheError: error instanceof JwksCacheError, wasmTrap } };
}

/** Background work handed to ctx.waitUntil by verify (the `waitUntil: true` option), counted. */
let waitedUntil = 0;

async function verifyRoute(request, ctx) {
  const { token, options, api = 'cache' } = await request.json();
  const given = { ...options };
  if (typeof given.currentDate === 'number') given.currentDate = new Date(given.currentDate);
  if (given.waitUntil === true) {
    given.waitUntil = (work) => {
      waitedUntil += 1;
      ctx.waitUntil(work);
    };
  }
  try {
    const { payload, protectedHeader, key } = await (api === 'verifyToken' ? verifyToken(token, given.jwksUri, given) : cache.verify(token, given));
    return Response.json({ payload, protectedHeader, key, keyFrozen: Object.isFrozen(key) });
  } catch (error) {
    return Response.json(describeError(error), { status: 500 });
  }
}

/** The inspection API as a Worker would use it (tests/workerd/cache.test.js). */
async function inspectRoute(request) {
  const { token, jwksUri, issuer } = await request.json();
  try {
    const inspected = inspectToken(token);
    const loaded = await loadKeySet(jwksUri !== undefined ? { jwksUri } : { issuer }, { maxRetries: 0 });
    try {
      const match = matchKey(loaded.keySet, inspected.header);
      const { payload } = await loaded.cache.verify(token, { jwksUri: loaded.jwksUri });
      return Response.json({ inspected, jwksUri: loaded.jwksUri, keySet: loaded.keySet, match, payload });
    } finally {
      loaded.cache.close();
    }
  } catch (error) {
    return Response.json({ ...describeError(error), uri: error?.uri, fix: explainError(error) }, { status: 500 });
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const param = (name) => url.searchParams.get(name) ?? undefined;
    if (url.pathname === '/reset') {
      const options = {};
      for (const name of ['timeoutMs', 'ttlMs', 'maxStaleMs', 'maxRetries', 'refetchCooldownMs', 'maxEntries', 'maxResponseBytes']) {
        if (param(name)) options[name] = Number(param(name));
      }
      offsetMs = 0;
      cache = createJwksCache({ ...options, now });
      fetches.length = 0;
      cryptoCalls.importKey = cryptoCalls.verify = 0;
      refuseCurve = param('refuseCurve') ?? null;
      return new Response('ok');
    }
    if (url.pathname === '/clear') {
      try {
        cache.clear();
      } catch (error) {
        return Response.json({ error: { name: error?.name, message: error?.message } }, { status: 500 });
      }
      return new Response('ok');
    }
    if (url.pathname === '/clock') {
      offsetMs += Number(param('advance') ?? 0);
      return Response.json({ now: now() });
    }
    if (url.pathname === '/status') {
      try {
        const status = cache.status(param('uri'));
        if (status?.lastError !== undefined) status.lastError = describeError(status.lastError).error;
        return Response.json(status);
      } catch (error) {
        return Response.json(describeError(error), { status: 500 });
      }
    }
    if (url.pathname === '/fetches') return Response.json(fetches);
    if (url.pathname === '/crypto-calls') return Response.json(cryptoCalls);
    if (url.pathname === '/verify') return verifyRoute(request, ctx);
    if (url.pathname === '/inspect') return inspectRoute(request);
    if (url.pathname === '/waited-until') return Response.json(waitedUntil);
    if (url.pathname === '/exhaust-memory') return Response.json(exhaustWasmMemory(initSync({ module: new Uint8Array() }).memory));
    try {
      const options = param('waitUntil') === '1' ? { waitUntil: ctx.waitUntil.bind(ctx) } : undefined;
      const jwk = await cache.getKey(param('uri'), param('kid'), options);
      return Response.json({ jwk, frozen: jwk === null ? null : Object.isFrozen(jwk) });
    } catch (error) {
      return Response.json(describeError(error), { status: 500 });
    }
  },
};
