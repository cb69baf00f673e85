// One cache in its own Node process, driven by JSON lines, for the tests of a store shared by
// processes (tests/node/redis-store.test.js).
//
//   node tests/support/cache-process.js '<config JSON>'
//
// config:
//   client: 'env'      createJwksCacheFromEnv(env, { onEvent, ...options })  (node-redis, made by the package)
//           'ioredis'  createJwksCache({ store: ioredisStore(new Redis(redisUrl)), onEvent, ...options })
//   env, redisUrl, options (more cache options, e.g. storeTimeoutMs)
//   lookupAtStart: [uri, kid]  a getKey right after the cache is made (its answer is in the ready line)
//   oneShot: true       no commands: lookupAtStart, then close() when `close` is true, then nothing
//                       more, so that the process ends by itself exactly when nothing holds it
//
// Lines written to stdout, one JSON object each:
//   { ready: true, pid, atStart? }            once the cache is made (atStart: lookupAtStart's answer)
//   { id, ok: true, value } | { id, ok: false, error: { name, code, message } }   a command's answer
//   { fatal: { code, message } }              making the cache failed; the process then reads no
//                                             commands (exit code 1), and ends by itself unless
//                                             something the failed call left open holds it
//
// Commands read from stdin, one JSON object a line: { id, op, args }
//   getKey [uri, kid]        -> { kid: the JWK's kid or null, ms: how long the call took }
//   invalidate [uri, opts]   -> what invalidate resolved
//   status [uri]             -> cache.status(uri)
//   metrics                  -> cache.metrics() (Prometheus text)
//   events [from]            -> the events recorded so far (from index `from`, default 0)
//   close                    -> cache.close() (and the ioredis client's disconnect); stdin is no longer
//                               read, so the process ends by itself unless something else holds it
//
// Nothing here calls process.exit() after the ready line: whether the process ends is the test.

import { createInterface } from 'node:readline';
import { createJwksCache, createJwksCacheFromEnv } from 'jwks-cache';

const config = JSON.parse(process.argv[2] ?? '{}');
const events = [];
const onEvent = (event) => events.push(event);
const send = (message) => process.stdout.write(JSON.stringify(message) + '\n');

let cache;
let client;
try {
  if (config.client === 'ioredis') {
    const { default: Redis } = await import('ioredis');
    const { ioredisStore } = await import('jwks-cache/redis');
    client = new Redis(config.redisUrl);
    // An error event without a listener is printed by ioredis; the store reports failed commands.
    client.on('error', () => {});
    cache = createJwksCache({ ...config.options, store: ioredisStore(client), onEvent });
  } else {
    cache = await createJwksCacheFromEnv(config.env ?? {}, { ...config.options, onEvent });
  }
} catch (error) {
  send({ fatal: { code: error?.code, message: String(error?.message ?? error) } });
  process.exitCode = 1;
}

async function lookUp(uri, kid) {
  const started = performance.now();
  const jwk = await cache.getKey(uri, kid);
  return { kid: jwk === null ? null : jwk.kid, ms: Math.round(performance.now() - started) };
}

const failure = (error) => ({ name: error?.name, code: error?.code, message: String(error?.message ?? error) });

function close() {
  cache.close();
  client?.disconnect();
}

let atStart;
if (cache !== undefined && config.lookupAtStart !== undefined) {
  try {
    atStart = { ok: true, value: await lookUp(...config.lookupAtStart) };
  } catch (error) {
    atStart = { ok: false, error: failure(error) };
  }
}
if (cache !== undefined) send({ ready: true, pid: process.pid, atStart });

if (cache === undefined) {
  // Nothing more: see `fatal` above.
} else if (config.oneShot) {
  if (config.close) close();
} else {
  const lines = createInterface({ input: process.stdin });
  const ops = {
    getKey: (uri, kid) => lookUp(uri, kid),
    invalidate: (uri, options) => cache.invalidate(uri, options),
    status: (uri) => cache.status(uri),
    metrics: () => cache.metrics(),
    events: (from = 0) => events.slice(from),
    close() {
      close();
      lines.close();
      process.stdin.destroy();
      return true;
    },
  };
  lines.on('line', async (line) => {
    let id;
    try {
      const command = JSON.parse(line);
      id = command.id;
      const run = ops[command.op];
      if (run === undefined) throw new Error(`unknown op ${command.op}`);
      send({ id, ok: true, value: (await run(...(command.args ?? []))) ?? null });
    } catch (error) {
      send({ id, ok: false, error: failure(error) });
    }
  });
}
