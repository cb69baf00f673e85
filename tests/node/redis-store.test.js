// The shared store across Node processes, through a real redis-server (issue 12): caches in child
// processes (tests/support/cache-process.js, driven by JSON lines), made by
// createJwksCacheFromEnv (a node-redis client the package makes) or with ioredisStore, against a
// real issuer on 127.0.0.1 that counts its requests. One fetch for many processes (the store's
// lock), invalidation reaching every process (pub/sub), Redis killed and restarted, the
// environment variables, and every child process ending by itself after close().
// The store within one process (memoryStore): shared-store.test.js.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { createJwksCacheFromEnv } from 'jwks-cache';
import { startRedis } from '../support/redis-server.js';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

const SCRIPT = fileURLToPath(new URL('../support/cache-process.js', import.meta.url));
const CHANNEL = 'jwks-cache:v1:invalidations';
/** How long a process has to end by itself after close(). */
const EXIT_MS = 3_000;
/** The bound on a lookup while Redis is down. */
const LOOKUP_BOUND_MS = 2_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let redis;
/** The test's own connection to Redis, to watch the processes' connections and subscriptions. */
let admin;
/** Every child process started, to be sure none outlives the file. */
const spawned = new Set();

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
});

after(async () => {
  for (const proc of spawned) if (proc.running) proc.child.kill('SIGKILL');
  admin?.disconnect();
  await redis?.stop();
});

/** An issuer of its own for a test (its URI, hence its store key, is new), serving kid k1. */
async function newIssuer(t) {
  const issuer = await startJwksServer({ keyCount: 0 });
  issuer.setKeys([makePublicJwk('EC', 'k1')]);
  t.after(() => issuer.close());
  return issuer;
}

const envConfig = (issuer) => ({ client: 'env', env: { JWT_JWKS_URL: issuer.jwksUri, JWKS_CACHE_TYPE: 'redis', REDIS_URL: redis.url } });
const ioredisConfig = () => ({ client: 'ioredis', redisUrl: redis.url });

/**
 * A cache in a child process: `ready` (its first line: { ready, atStart } or { fatal }),
 * `call(op, ...args)` (rejects when the process does not answer within 5 s), `within(ms, op, ...)`.
 */
function startCache(config) {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const proc = {
    child,
    pid: child.pid,
    stderr: '',
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
  spawned.add(proc);
  const pending = new Map();
  let nextId = 1;
  let first;
  const firstLine = new Promise((resolve, reject) => (first = { resolve, reject }));
  firstLine.catch(() => {});
  proc.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      first.reject(new Error(`process ${proc.pid} exited (${code ?? signal}) before its first line: ${proc.stderr}`));
      for (const settle of pending.values()) settle({ ok: false, error: { message: `process ${proc.pid} exited (${code ?? signal}): ${proc.stderr}` } });
      pending.clear();
    });
  });
  child.stderr.on('data', (chunk) => (proc.stderr += chunk));
  child.stdin.on('error', () => {}); // EPIPE once it has ended
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line);
    if (message.ready || message.fatal) return first.resolve(message);
    const settle = pending.get(message.id);
    pending.delete(message.id);
    settle?.(message);
  });
  proc.ready = Promise.race([firstLine, sleep(15_000).then(() => Promise.reject(new Error(`process ${proc.pid}: no first line within 15 s`)))]);
  proc.within = (ms, op, ...args) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${op} in process ${proc.pid}: no answer within ${ms} ms`));
      }, ms);
      pending.set(id, (message) => {
        clearTimeout(timer);
        if (message.ok) resolve(message.value);
        else reject(Object.assign(new Error(message.error.message), message.error));
      });
      child.stdin.write(JSON.stringify({ id, op, args }) + '\n');
    });
  proc.call = (op, ...args) => proc.within(5_000, op, ...args);
  return proc;
}

/**
 * Asks each process still running to close(), stops writing to it, and waits EXIT_MS for it to
 * end by itself. Returns the pids that did not (they are then killed).
 */
async function exitAll(procs) {
  const held = [];
  await Promise.all(
    procs.map(async (proc) => {
      if (!proc.running) return;
      await proc.within(2_000, 'close').catch(() => {});
      proc.child.stdin.end();
      const ended = await Promise.race([proc.exited.then(() => true), sleep(EXIT_MS).then(() => false)]);
      if (!ended) {
        held.push(proc.pid);
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }),
  );
  return held;
}

/** Polls `check` until it returns true; resolves how long that took, rejects after `ms`. */
async function waitFor(what, ms, check) {
  const started = performance.now();
  let last;
  for (;;) {
    try {
      if ((last = await check()) === true) return Math.round(performance.now() - started);
    } catch (error) {
      last = error;
    }
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms (last: ${last?.message ?? last})`);
    await sleep(25);
  }
}

/** Subscribers of the invalidation channel, and connections other than the test's own. */
async function redisView() {
  const [, subscribers] = await admin.call('PUBSUB', 'NUMSUB', CHANNEL);
  const clients = (await admin.call('CLIENT', 'LIST')).trim().split('\n').length - 1;
  return { subscribers: Number(subscribers), clients };
}

/** Waits until `processes` caches are connected to Redis: a command connection and a subscriber each. */
async function storeReady(processes, ms = 10_000) {
  const took = await waitFor(`${processes} processes connected to Redis`, ms, async () => {
    const view = await redisView();
    return view.subscribers === processes && view.clients === 2 * processes ? true : JSON.stringify(view);
  });
  // Connected is not yet ready on the client's side by a few microseconds.
  await sleep(100);
  return took;
}

/**
 * `processes` caches in child processes, ready, connected to Redis (beside `others` already
 * connected); closed (or killed) after the test.
 */
async function fleet(t, processes, config, others = 0) {
  const procs = Array.from({ length: processes }, () => startCache(config));
  t.after(() => exitAll(procs));
  for (const first of await Promise.all(procs.map((proc) => proc.ready))) assert.equal(first.ready, true, JSON.stringify(first));
  await storeReady(others + processes);
  return procs;
}

/** A counter's value in Prometheus text (0 when absent). */
function counter(text, name, labels = '') {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The Redis key of a URI's set (js/shared-store.js: the layout's version, a SHA-256 of the URI). */
const storeKey = (uri) => `jwks-cache:v1:jwks:${createHash('sha256').update(uri).digest('hex')}`;

const ofAction = (events, action) => events.filter((event) => event.action === action);

/** Each process's lookups of `kid`, at once. */
const lookUpAll = (procs, uri, kid, ms = 5_000) => Promise.all(procs.map((proc) => proc.within(ms, 'getKey', uri, kid)));

test('three processes made by createJwksCacheFromEnv (node-redis), cold at once: one request to the issuer, the other two wait for the set in Redis', async (t) => {
  const issuer = await newIssuer(t);
  const procs = await fleet(t, 3, envConfig(issuer));
  // The fetch outlasts the skew between the three lookups: the other two find the lock taken.
  issuer.behave('slow', 300);
  const answers = await lookUpAll(procs, issuer.jwksUri, 'k1');
  assert.deepEqual(answers.map((answer) => answer.kid), ['k1', 'k1', 'k1']);
  assert.equal(issuer.jwksRequests, 1);
  const sources = [];
  let hits = 0;
  for (const proc of procs) {
    const events = await proc.call('events');
    assert.deepEqual(ofAction(events, 'JWKS_CACHE_STORE_ERROR'), []);
    sources.push(...ofAction(events, 'JWKS_CACHE_REFRESHED').map((event) => event.source));
    hits += counter(await proc.call('metrics'), 'jwt_jwks_cache_store_reads_total', '{result="hit"}');
  }
  assert.deepEqual(sources.sort(), ['issuer', 'store', 'store']);
  assert.equal(hits, 2);
  assert.equal(await admin.exists(storeKey(issuer.jwksUri)), 1, 'the set is in Redis');
  t.diagnostic(`issuer requests: ${issuer.jwksRequests}; lookups took ${answers.map((answer) => answer.ms).join(', ')} ms`);
  assert.deepEqual(await exitAll(procs), [], 'every process ends by itself after close()');
});

test(
  'three processes each looking the kid up as soon as createJwksCacheFromEnv has resolved: one request to the issuer',
  async (t) => {
    const issuer = await newIssuer(t);
    issuer.behave('slow', 300);
    const procs = Array.from({ length: 3 }, () => startCache({ ...envConfig(issuer), lookupAtStart: [issuer.jwksUri, 'k1'] }));
    t.after(() => exitAll(procs));
    const firsts = await Promise.all(procs.map((proc) => proc.ready));
    assert.deepEqual(firsts.map((first) => first.atStart?.value?.kid), ['k1', 'k1', 'k1'], JSON.stringify(firsts));
    const storeErrors = [];
    for (const proc of procs) {
      for (const event of ofAction(await proc.call('events'), 'JWKS_CACHE_STORE_ERROR')) storeErrors.push(`${event.operation}: ${event.error.message}`);
    }
    t.diagnostic(`issuer requests: ${issuer.jwksRequests}; store errors: ${storeErrors.join('; ') || 'none'}`);
    assert.deepEqual(await exitAll(procs), []);
    assert.equal(issuer.jwksRequests, 1, `store errors: ${storeErrors.join('; ')}`);
    assert.deepEqual(storeErrors, []);
  },
);

test('invalidate(uri, { reason }) in one process after a rotation: the other two drop their copies (pub/sub) and serve the new keys; the old kid answers null', async (t) => {
  const issuer = await newIssuer(t);
  const [a, b, c] = await fleet(t, 3, envConfig(issuer));
  const counts = {};
  issuer.behave('slow', 200);
  await lookUpAll([a, b, c], issuer.jwksUri, 'k1');
  counts.cold = issuer.jwksRequests;
  assert.equal(counts.cold, 1);

  // The keys leak: the issuer replaces them, then an operator invalidates on one process.
  issuer.setKeys([makePublicJwk('EC', 'k2')]);
  assert.equal(await a.call('invalidate', issuer.jwksUri, { reason: 'rotation' }), true);
  assert.equal(await a.call('status', issuer.jwksUri), null);
  const dropped = await waitFor('the other processes drop their copies', 3_000, async () => {
    const statuses = await Promise.all([b, c].map((proc) => proc.call('status', issuer.jwksUri)));
    return statuses.every((status) => status === null);
  });
  assert.equal(await admin.exists(storeKey(issuer.jwksUri)), 0, 'the stored set was deleted');
  assert.equal(issuer.jwksRequests, counts.cold, 'nobody fetched on invalidation');

  // Their next calls: the two others at once (one fetch, under the lock), then the invalidating one (from the store).
  const next = await lookUpAll([b, c], issuer.jwksUri, 'k2');
  assert.deepEqual(next.map((answer) => answer.kid), ['k2', 'k2']);
  assert.equal((await a.call('getKey', issuer.jwksUri, 'k2')).kid, 'k2');
  counts.newSet = issuer.jwksRequests - counts.cold;
  assert.equal(counts.newSet, 1);

  // The old kid, in all three at once: a kid missing from a fresh set is one refetch (key
  // rotation), within each process's refetch budget. A stored set without that kid never answers
  // it (another instance's clock may be ahead, so a set stamped after the refetch began may still
  // be the old one): the process holding the lock asks the issuer, and the two waiting on it stop
  // waiting when its set comes without the kid, and ask the issuer themselves.
  const old = await lookUpAll([a, b, c], issuer.jwksUri, 'k1');
  assert.deepEqual(old.map((answer) => answer.kid), [null, null, null]);
  counts.oldKid = issuer.jwksRequests - counts.cold - counts.newSet;
  assert.equal(counts.oldKid, 3);

  const [eventsA, eventsB, eventsC] = await Promise.all([a, b, c].map((proc) => proc.call('events')));
  const invalidatedA = ofAction(eventsA, 'JWKS_CACHE_INVALIDATED');
  assert.equal(invalidatedA.length, 1, 'its own message is not heard as a remote invalidation');
  assert.deepEqual({ ...invalidatedA[0], timestamp: undefined }, { action: 'JWKS_CACHE_INVALIDATED', timestamp: undefined, uri: issuer.jwksUri, reason: 'rotation', shared: true });
  for (const events of [eventsB, eventsC]) {
    const remote = ofAction(events, 'JWKS_CACHE_INVALIDATED');
    assert.equal(remote.length, 1);
    assert.deepEqual({ ...remote[0], timestamp: undefined }, { action: 'JWKS_CACHE_INVALIDATED', timestamp: undefined, uri: issuer.jwksUri, remote: true });
  }
  assert.equal(counter(await a.call('metrics'), 'jwt_jwks_cache_invalidations_total'), 1);
  t.diagnostic(`dropped everywhere within ${dropped} ms; issuer requests: cold ${counts.cold}, new set ${counts.newSet}, old kid ${counts.oldKid} (total ${issuer.jwksRequests})`);
  assert.deepEqual(await exitAll([a, b, c]), []);
});

test('redis-server killed (SIGKILL) in the middle: known keys from memory, a rotated key from the issuer, errors reported, nothing hangs or dies; once restarted, Redis is used again', async (t) => {
  const issuer = await newIssuer(t);
  const [a, b, c] = await fleet(t, 3, envConfig(issuer));
  const counts = {};
  await lookUpAll([a, b, c], issuer.jwksUri, 'k1');
  counts.cold = issuer.jwksRequests;
  assert.equal(counts.cold, 1);

  await redis.kill();
  t.after(() => (redis.running ? undefined : redis.restart()));
  // Known kid: from memory, no request.
  for (const answer of await lookUpAll([a, b, c], issuer.jwksUri, 'k1', LOOKUP_BOUND_MS)) {
    assert.equal(answer.kid, 'k1');
    assert.ok(answer.ms < LOOKUP_BOUND_MS, `${answer.ms} ms`);
  }
  assert.equal(issuer.jwksRequests, counts.cold);
  // A rotated key: each process asks the issuer on its own (no store, hence no lock).
  const k2 = issuer.rotate({ keepOld: true });
  const rotated = await lookUpAll([a, b, c], issuer.jwksUri, k2, LOOKUP_BOUND_MS);
  assert.deepEqual(rotated.map((answer) => answer.kid), [k2, k2, k2]);
  assert.ok(rotated.every((answer) => answer.ms < LOOKUP_BOUND_MS), JSON.stringify(rotated));
  counts.rotatedDuringOutage = issuer.jwksRequests - counts.cold;
  assert.equal(counts.rotatedDuringOutage, 3);
  // An invalidation cannot reach the others: done here, reported as failed, not thrown.
  const invalidateStarted = performance.now();
  assert.equal(await a.within(LOOKUP_BOUND_MS, 'invalidate', issuer.jwksUri, { reason: 'during the outage' }), false);
  assert.ok(performance.now() - invalidateStarted < LOOKUP_BOUND_MS);
  const failed = ofAction(await a.call('events'), 'JWKS_CACHE_INVALIDATION_FAILED');
  assert.deepEqual(failed.map((event) => event.reason), ['during the outage']);

  for (const proc of [a, b, c]) {
    const events = await proc.call('events');
    const operations = new Set(ofAction(events, 'JWKS_CACHE_STORE_ERROR').map((event) => event.operation));
    // A store that cannot be read is not asked for its lock (one timeout before the issuer, not two).
    for (const operation of ['get', 'set']) assert.ok(operations.has(operation), `${proc.pid}: ${[...operations]}`);
    const metrics = await proc.call('metrics');
    for (const operation of ['get', 'set']) {
      assert.ok(counter(metrics, 'jwt_jwks_cache_store_errors_total', `{operation="${operation}"}`) >= 1, `${operation}\n${metrics}`);
    }
    assert.ok(proc.running, `process ${proc.pid} is alive`);
  }

  // Redis is back (empty): the clients reconnect, the subscribers subscribe again.
  await redis.restart();
  const reconnected = await storeReady(3);
  assert.equal(await a.call('invalidate', issuer.jwksUri, { reason: 'after the restart' }), true);
  const dropped = await waitFor('the invalidation reaches the others again', 3_000, async () => {
    const statuses = await Promise.all([b, c].map((proc) => proc.call('status', issuer.jwksUri)));
    return statuses.every((status) => status === null);
  });
  // One fetch, stored in Redis; a fresh process's cold lookup is then answered from there.
  const before = issuer.jwksRequests;
  assert.equal((await b.call('getKey', issuer.jwksUri, k2)).kid, k2);
  counts.afterRestart = issuer.jwksRequests - before;
  assert.equal(counts.afterRestart, 1);
  const [d] = await fleet(t, 1, envConfig(issuer), 3);
  assert.equal((await d.call('getKey', issuer.jwksUri, k2)).kid, k2);
  assert.equal(issuer.jwksRequests - before, 1, 'the fresh process asked Redis, not the issuer');
  assert.equal(counter(await d.call('metrics'), 'jwt_jwks_cache_store_reads_total', '{result="hit"}'), 1);

  for (const proc of [a, b, c, d]) assert.equal(proc.stderr, '', `process ${proc.pid} wrote to stderr`);
  t.diagnostic(
    `issuer requests: cold ${counts.cold}, rotated kid during the outage ${counts.rotatedDuringOutage}, after the restart ${counts.afterRestart} ` +
      `(a fourth process: 0); Redis used again ${reconnected} ms after its restart, invalidation heard within ${dropped} ms`,
  );
  assert.deepEqual(await exitAll([a, b, c, d]), []);
});

test('ioredis: three processes with createJwksCache({ store: ioredisStore(new Redis(url)) }) share one fetch, and an invalidation reaches the others', async (t) => {
  const issuer = await newIssuer(t);
  const [a, b, c] = await fleet(t, 3, ioredisConfig());
  issuer.behave('slow', 300);
  const answers = await lookUpAll([a, b, c], issuer.jwksUri, 'k1');
  assert.deepEqual(answers.map((answer) => answer.kid), ['k1', 'k1', 'k1']);
  const cold = issuer.jwksRequests;
  assert.equal(cold, 1);

  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'k2')]);
  assert.equal(await a.call('invalidate', issuer.jwksUri, { reason: 'rotation' }), true);
  const dropped = await waitFor('the other processes drop their copies', 3_000, async () => {
    const statuses = await Promise.all([b, c].map((proc) => proc.call('status', issuer.jwksUri)));
    return statuses.every((status) => status === null);
  });
  assert.equal((await b.call('getKey', issuer.jwksUri, 'k2')).kid, 'k2');
  assert.equal((await c.call('getKey', issuer.jwksUri, 'k2')).kid, 'k2');
  assert.equal(issuer.jwksRequests, cold + 1, 'one fetch of the new set: the third process takes it from Redis');
  for (const proc of [b, c]) {
    assert.deepEqual(ofAction(await proc.call('events'), 'JWKS_CACHE_INVALIDATED').map((event) => event.remote), [true]);
  }
  assert.deepEqual(ofAction(await a.call('events'), 'JWKS_CACHE_INVALIDATED').map((event) => event.reason), ['rotation']);
  t.diagnostic(`issuer requests: cold ${cold}, new set 1; dropped everywhere within ${dropped} ms`);
  assert.deepEqual(await exitAll([a, b, c]), []);
});

test('createJwksCacheFromEnv checks its variables: each error names its variable', async () => {
  const cases = [
    [{ JWKS_CACHE_TYPE: 'redis' }, 'REDIS_URL'],
    [{ JWKS_CACHE_TYPE: 'memcached' }, 'JWKS_CACHE_TYPE'],
    [{ JWKS_CACHE_TYPE: 'REDIS', REDIS_URL: 'redis://127.0.0.1:1' }, 'JWKS_CACHE_TYPE'],
    [{ JWKS_REFRESH_INTERVAL_MINUTES: 'abc' }, 'JWKS_REFRESH_INTERVAL_MINUTES'],
    [{ JWKS_REFRESH_INTERVAL_MINUTES: '0' }, 'JWKS_REFRESH_INTERVAL_MINUTES'],
    [{ JWKS_ENABLE_BACKGROUND_REFRESH: 'maybe' }, 'JWKS_ENABLE_BACKGROUND_REFRESH'],
    [{ JWKS_CACHE_TYPE: 'redis', REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
  ];
  for (const [env, name] of cases) {
    await assert.rejects(createJwksCacheFromEnv(env), (error) => {
      assert.equal(error.code, 'ERR_INVALID_OPTION', JSON.stringify(env));
      assert.equal(error.message.match(/environment variable (\w+)/)?.[1], name, `${JSON.stringify(env)}: ${error.message}`);
      return true;
    });
  }
});

test(
  'createJwksCacheFromEnv: a refresh interval it accepts as a number of minutes but that is under a second names JWKS_REFRESH_INTERVAL_MINUTES',
  async () => {
    const env = { JWKS_ENABLE_BACKGROUND_REFRESH: 'true', JWKS_REFRESH_INTERVAL_MINUTES: '0.01' };
    await assert.rejects(createJwksCacheFromEnv(env), (error) => {
      assert.equal(error.code, 'ERR_INVALID_OPTION');
      assert.match(error.message, /JWKS_REFRESH_INTERVAL_MINUTES/, error.message);
      return true;
    });
  },
);

test('close() lets a process with an open Redis connection exit (and without close() it does not)', async (t) => {
  const issuer = await newIssuer(t);
  const config = { ...envConfig(issuer), oneShot: true, lookupAtStart: [issuer.jwksUri, 'k1'] };
  const closing = startCache({ ...config, close: true });
  const holding = startCache({ ...config, close: false });
  t.after(() => holding.child.kill('SIGKILL'));
  for (const proc of [closing, holding]) assert.equal((await proc.ready).atStart.value.kid, 'k1');
  const ended = await Promise.race([closing.exited, sleep(EXIT_MS).then(() => 'still running')]);
  assert.deepEqual(ended, { code: 0, signal: null });
  // The control: the same process without close() is held by its connections.
  assert.equal(holding.running, true, 'without close(), the Redis connection keeps the process up');
  holding.child.kill('SIGKILL');
  await holding.exited;
});

test(
  'a failed createJwksCacheFromEnv (an invalid value found after connecting to Redis) leaves no connection that holds the process',
  async (t) => {
    const issuer = await newIssuer(t);
    const env = { ...envConfig(issuer).env, JWKS_ENABLE_BACKGROUND_REFRESH: 'true', JWKS_REFRESH_INTERVAL_MINUTES: '0.01' };
    const proc = startCache({ client: 'env', env, oneShot: true });
    t.after(() => proc.child.kill('SIGKILL'));
    const first = await proc.ready;
    assert.equal(first.fatal?.code, 'ERR_INVALID_OPTION', JSON.stringify(first));
    const ended = await Promise.race([proc.exited, sleep(EXIT_MS).then(() => 'still running')]);
    assert.deepEqual(ended, { code: 1, signal: null });
  },
);

test(
  'a process started while Redis is down: once Redis is back, one subscription, each invalidation heard once, and close() lets it exit',
  async (t) => {
    const issuer = await newIssuer(t);
    await redis.kill();
    t.after(() => (redis.running ? undefined : redis.restart()));
    const proc = startCache(envConfig(issuer));
    t.after(() => exitAll([proc]));
    assert.equal((await proc.ready).ready, true);
    // Two subscribe attempts time out (at 0 and about 1.25 s), then Redis comes back.
    await sleep(2_000);
    await redis.restart();
    await waitFor('subscribed', 8_000, async () => (await redisView()).subscribers >= 1);
    // Time for every attempt still connecting (node-redis reconnects after up to 3.2 s here).
    await sleep(2_500);
    const { subscribers } = await redisView();
    // A set to drop (an invalidation of a URI it does not hold is not reported).
    assert.equal((await proc.call('getKey', issuer.jwksUri, 'k1')).kid, 'k1');
    await admin.publish(CHANNEL, JSON.stringify({ uri: issuer.jwksUri, from: 'another process' }));
    await sleep(200);
    const heard = ofAction(await proc.call('events'), 'JWKS_CACHE_INVALIDATED').length;
    const held = await exitAll([proc]);
    t.diagnostic(`subscriptions: ${subscribers}; one invalidation heard ${heard} times; still running after close(): ${held.length === 1}`);
    assert.equal(subscribers, 1);
    assert.equal(heard, 1);
    assert.deepEqual(held, []);
  },
);

test('no child process outlives the tests: every one started has ended', () => {
  const running = [...spawned].filter((proc) => proc.running).map((proc) => proc.pid);
  // And by the system's own list: the children of this process still running, by command line.
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      if (Number(fields[1]) !== process.pid || fields[0] === 'Z') continue;
      children.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // Gone meanwhile.
    }
  }
  assert.ok(children.has(redis.pid), 'the listing sees this process\'s children (redis-server, stopped after this test)');
  assert.deepEqual(running, []);
  assert.deepEqual([...children].filter(([, command]) => command.includes(SCRIPT)), []);
});
