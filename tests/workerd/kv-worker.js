// A Worker whose caches share their sets through Workers KV (`jwks-cache/workers-kv` on the
// JWKS_KV namespace binding), for tests/workerd/kv-store.test.js. One Miniflare isolate keeps its
// module state, so two instances of a Worker are stood in for by two caches, `a` and `b`, on the
// same namespace; three more run on wrappers of it whose get fails: `rejects` (get rejects),
// `throws` (get throws at once) and `hangs` (get never settles). Each cache counts the fetches it
// makes (its `fetch` option) and records its events (`onEvent`).
//   GET /reset?storeTimeoutMs=     -> new caches (created on first use otherwise), counts and
//                                     events forgotten: 'ok'
//   GET /key?cache=&uri=&kid=      -> { jwk } or 500 { error: { name, code, message } }
//   GET /invalidate?cache=&uri=    -> { done }: what invalidate resolved to
//   GET /status?cache=&uri=        -> cache.status(uri) without lastError
//   GET /events?cache=             -> [{ action, source, operation, code, message, shared }]
//   GET /fetches?cache=            -> the number of requests that cache made to the issuer
//   GET /metrics?cache=            -> cache.metrics()
import { createJwksCache } from 'jwks-cache';
import { workersKvStore } from 'jwks-cache/workers-kv';

const NAMES = ['a', 'b', 'rejects', 'throws', 'hangs'];

let caches;
const fetches = {};
const events = {};

/** The JWKS_KV binding, or a wrapper of it whose get fails as `how` says. */
function namespaceFor(how, kv) {
  const wrap = (get) => ({ get, put: (...args) => kv.put(...args), delete: (...args) => kv.delete(...args), list: (...args) => kv.list(...args) });
  if (how === 'rejects') return wrap(() => Promise.reject(new Error('KV GET failed: 503 Service Unavailable')));
  if (how === 'throws') {
    return wrap(() => {
      throw new TypeError('KV GET failed: binding unavailable');
    });
  }
  if (how === 'hangs') return wrap(() => new Promise(() => {}));
  return kv;
}

function makeCaches(env, storeTimeoutMs) {
  caches = {};
  for (const name of NAMES) {
    fetches[name] = 0;
    events[name] = [];
    caches[name] = createJwksCache({
      store: workersKvStore(namespaceFor(name, env.JWKS_KV)),
      storeTimeoutMs,
      maxRetries: 0,
      fetch: (input, init) => {
        fetches[name] += 1;
        return fetch(input, init);
      },
      onEvent: (event) => {
        const { action, source, operation, error, shared } = event;
        events[name].push({ action, source, operation, code: error?.code, message: error?.message, shared });
      },
    });
  }
}

function describeError(error) {
  const { name, code, message } = error ?? {};
  return { error: { name, code, message } };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const param = (name) => url.searchParams.get(name) ?? undefined;
    if (url.pathname === '/reset') {
      makeCaches(env, param('storeTimeoutMs') === undefined ? undefined : Number(param('storeTimeoutMs')));
      return new Response('ok');
    }
    if (caches === undefined) makeCaches(env);
    const name = param('cache');
    const cache = caches[name];
    if (cache === undefined) return new Response(`no cache ${name}`, { status: 404 });
    try {
      switch (url.pathname) {
        case '/key':
          return Response.json({ jwk: await cache.getKey(param('uri'), param('kid')) });
        case '/invalidate':
          return Response.json({ done: await cache.invalidate(param('uri'), { reason: 'test' }) });
        case '/status': {
          const status = cache.status(param('uri'));
          if (status !== null) delete status.lastError;
          return Response.json(status);
        }
        case '/events':
          return Response.json(events[name]);
        case '/fetches':
          return Response.json(fetches[name]);
        case '/metrics':
          return new Response(cache.metrics(), { headers: { 'content-type': 'text/plain; version=0.0.4' } });
        default:
          return new Response('not found', { status: 404 });
      }
    } catch (error) {
      return Response.json(describeError(error), { status: 500 });
    }
  },
};
