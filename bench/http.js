// An authenticated HTTP endpoint, end to end: three Express 5 apps, each guarding GET /api/me
// (it answers the token's `sub`), each in its own child process, hit over real HTTP by
// autocannon from this process, against one issuer on 127.0.0.1 (tests/support/jwks-server.js)
// that also lives here:
//   jwks-cache   app.use('/api', jwtAuth({ jwksUri, audience }))            (jwks-cache/express)
//   express-jwt  expressjwt({ secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }),
//                            algorithms: ['ES256', 'RS256'], audience })    (express-jwt 8 + jwks-rsa 4)
//   jose         a small middleware: jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), { audience })
// and, as a ceiling, the same Express app with no authentication at all.
// Scenarios, ES256 tokens throughout:
//   a. one token, repeated;
//   b. 20,000 distinct pre-signed tokens, cycled (no verified-token cache can help);
//   c. b while the JWKS endpoint answers 500, on the warm apps (every cache fresh);
//   d. b while the JWKS endpoint answers 500 and every cache is past its TTL: each round, a fresh
//      app per contender with a 1 s cache age, warmed, then the outage, and 1.5 s later the load.
// The machine has 2 cores: one app is under load at a time (the others idle), sharing the cores
// with autocannon only; the contenders run one after another, their order rotated over ROUNDS
// rounds, and each cell reports the median of its rounds, with the app's CPU time per request.
// Not a test: nothing here asserts a time. Run: node bench/http.js (after make build); it prints
// the tables and writes them into bench/http.md (between its markers). About 3.7 minutes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const AUDIENCE = 'api://bench';
/** OFFLOAD=0: jwks-cache's app checks signatures on the event loop (offloadSignatures: false; the
 * middleware's own cache offloads them); the tables are then written to http-inline.md, not http.md. */
const INLINE = process.env.OFFLOAD === '0';
const SHORT_TTL_MS = 1_000; // the cache age of the scenario-d apps
const CONTENDERS = ['jwks-cache', 'express-jwt', 'jose'];
const LABELS = {
  'jwks-cache': 'jwks-cache `jwtAuth`',
  'express-jwt': 'express-jwt + jwks-rsa',
  jose: 'jose `jwtVerify` + `createRemoteJWKSet`',
  none: 'Express alone, no authentication (ceiling)',
};

if (process.argv[2] === '--app') {
  await serveApp(process.argv[3], process.argv[4], process.argv[5]);
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
// The apps (child processes): `node bench/http.js --app <contender> <defaults|short-ttl> <jwksUri>`.
// Each tells the parent its port, and answers 'cpu' with its process.cpuUsage() and its event
// loop's busy time; it exits when the parent goes.

async function serveApp(contender, variant, jwksUri) {
  const { default: express } = await import('express');
  const short = variant === 'short-ttl';
  const app = express();
  if (contender === 'jwks-cache') {
    const { jwtAuth } = await import('jwks-cache/express');
    const options = { jwksUri, audience: AUDIENCE };
    if (short || INLINE) {
      const { createJwksCache } = await import('jwks-cache');
      // As the middleware makes its own: signatures off the event loop, unless OFFLOAD=0.
      options.cache = createJwksCache({ ...(short ? { ttlMs: SHORT_TTL_MS } : {}), offloadSignatures: !INLINE });
    }
    app.use('/api', jwtAuth(options));
    app.get('/api/me', (req, res) => res.json({ sub: req.auth.payload.sub }));
  } else if (contender === 'express-jwt') {
    const { expressjwt } = await import('express-jwt');
    const { default: jwksRsa } = await import('jwks-rsa');
    const secret = jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true, ...(short ? { cacheMaxAge: SHORT_TTL_MS } : {}) });
    app.use('/api', expressjwt({ secret, algorithms: ['ES256', 'RS256'], audience: AUDIENCE }));
    app.get('/api/me', (req, res) => res.json({ sub: req.auth.sub }));
    // The error handler of express-jwt's README (401 for its UnauthorizedError), and the error's
    // name for the rest (Express's own handler would answer 500 and log every stack).
    app.use((err, req, res, next) => {
      res.status(err.name === 'UnauthorizedError' ? 401 : (err.status ?? 500)).json({ error: err.name, code: err.code ?? err.name });
    });
  } else if (contender === 'jose') {
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const jwks = createRemoteJWKSet(new URL(jwksUri), short ? { cacheMaxAge: SHORT_TTL_MS } : undefined);
    app.use('/api', async (req, res, next) => {
      const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      if (match === null) return res.status(401).json({ error: 'unauthorized', code: 'ERR_JWT_MISSING' });
      try {
        req.auth = (await jwtVerify(match[1], jwks, { audience: AUDIENCE })).payload;
      } catch (error) {
        return res.status(401).json({ error: 'invalid_token', code: error.code ?? error.name });
      }
      next();
    });
    app.get('/api/me', (req, res) => res.json({ sub: req.auth.sub }));
  } else if (contender === 'none') {
    // The same layers as the others (a middleware on /api, then the route), doing nothing.
    app.use('/api', (req, res, next) => next());
    app.get('/api/me', (req, res) => res.json({ sub: 'anonymous' }));
  } else {
    throw new Error(`unknown contender ${contender}`);
  }
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.on('message', (message) => {
    if (message === 'cpu') process.send({ cpu: { ...process.cpuUsage(), loopActiveMs: performance.eventLoopUtilization().active } });
  });
}

// ---------------------------------------------------------------------------------------------
// The run (parent).

async function main() {
  const { default: autocannon } = await import('autocannon');
  const { startJwksServer } = await import('../tests/support/jwks-server.js');
  const { makeSigner, nowSec } = await import('../tests/support/signer.js');

  const ROUNDS = 3;
  const CONNECTIONS = 50;
  const SECONDS = { a: 4, b: 5, c: 3, d: 4 };
  const WARM_SECONDS = 2;
  const D_WARM_SECONDS = 3; // a fresh process is still warming up its JIT for a few seconds
  const TOKENS = 20_000;
  const started = performance.now();
  const load = [loadavg()[0]];
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const issuer = await startJwksServer();
  const signer = makeSigner('ES256', { kid: 'bench-es256' });
  issuer.setKeys([signer.jwk]);
  const exp = nowSec() + 3600;
  const signStarted = performance.now();
  const tokens = Array.from({ length: TOKENS }, (_, i) => signer.sign({ sub: `user-${i}`, aud: AUDIENCE, iat: nowSec(), exp }));
  const signMs = performance.now() - signStarted;
  const oneToken = signer.sign({ sub: 'user-one', aud: AUDIENCE, iat: nowSec(), exp });

  // The apps with default caches, one per contender, and the ceiling; scenario d starts its own.
  const here = fileURLToPath(import.meta.url);
  const apps = new Map();
  async function startApp(contender, variant) {
    const child = fork(here, ['--app', contender, variant, issuer.jwksUri], { env: { ...process.env, NODE_ENV: 'production' } });
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`${contender} ${variant} exited with ${code}`)));
    });
    const app = { contender, variant, child, url: `http://127.0.0.1:${port}/api/me` };
    apps.set(`${contender}/${variant}`, app);
    return app;
  }
  for (const contender of CONTENDERS) await startApp(contender, 'defaults');
  await startApp('none', 'defaults');

  const cpuOf = (app) =>
    new Promise((resolve) => {
      app.child.once('message', (m) => resolve(m.cpu));
      app.child.send('cpu');
    });
  /** One request, as a client would see it: status and body. */
  async function probe(app, token) {
    const response = await fetch(app.url, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.text() };
  }

  // The requests of a scenario: one token, or the next of the 20,000 on each request; `codes`
  // tallies the answers by status and the body's `code`.
  let nextToken = 0;
  function requestsFor(scenario, codes) {
    const onResponse = codes && ((status, body) => {
      const key = status === 200 ? '200' : `${status} ${/"code":"([^"]*)"/.exec(body)?.[1] ?? '?'}`;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    });
    if (scenario === 'a') return [{ method: 'GET', headers: { authorization: `Bearer ${oneToken}` }, ...(onResponse ? { onResponse } : {}) }];
    return [
      {
        method: 'GET',
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[nextToken++ % TOKENS]}` } }),
        ...(onResponse ? { onResponse } : {}),
      },
    ];
  }

  async function cell(app, scenario, seconds) {
    const codes = scenario === 'c' || scenario === 'd' ? new Map() : null;
    issuer.resetCounts();
    const cpu0 = await cpuOf(app);
    const self0 = process.cpuUsage();
    const machine0 = machineCpu();
    const result = await autocannon({ url: app.url, connections: CONNECTIONS, duration: seconds, requests: requestsFor(scenario, codes) });
    const self1 = process.cpuUsage(self0);
    const machine1 = machineCpu();
    const cpu1 = await cpuOf(app);
    const wallS = (new Date(result.finish) - new Date(result.start)) / 1000;
    const total = result.requests.total;
    const appCpuUs = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
    const loopUs = (cpu1.loopActiveMs - cpu0.loopActiveMs) * 1000;
    const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([s, v]) => [s, v.count]));
    return {
      rps: total / wallS,
      ok: (statuses[200] ?? 0) / wallS,
      p50: result.latency.p50,
      p99: result.latency.p99,
      statuses,
      codes: codes && Object.fromEntries(codes),
      errors: result.errors + result.timeouts,
      jwksRequests: issuer.jwksRequests,
      appCpuPerRequestUs: appCpuUs / Math.max(1, total),
      loopPerRequestUs: loopUs / Math.max(1, total),
      appCpuShare: appCpuUs / 1e6 / wallS,
      loaderCpuShare: (self1.user + self1.system) / 1e6 / wallS,
      // Cores busy over the cell, less the app and the load generator: everything else on the machine.
      otherCpuShare: machine0 && machine1 ? Math.max(0, ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cpus().length - appCpuUs / 1e6 / wallS - (self1.user + self1.system) / 1e6 / wallS) : NaN,
    };
  }

  // Warm-up: every app's code paths, and every cache filled (not measured).
  for (const contender of CONTENDERS) {
    await cell(apps.get(`${contender}/defaults`), 'b', WARM_SECONDS);
    await cell(apps.get(`${contender}/defaults`), 'a', 1);
  }
  await cell(apps.get('none/defaults'), 'a', 1);
  console.error(`warm-up done (${((performance.now() - started) / 1000).toFixed(0)} s)`);

  // results[scenario][contender] = [cell per round]
  const results = { a: {}, b: {}, c: {}, d: {} };
  const samples = {}; // what one request got right after a c or d cell
  for (let round = 0; round < ROUNDS; round++) {
    const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
    for (const scenario of ['a', 'b', 'c', 'd']) {
      const contenders = scenario === 'a' ? [...order, 'none'] : order;
      for (const contender of contenders) {
        let app = apps.get(`${contender}/defaults`);
        if (scenario === 'c') issuer.behave('status', 500);
        if (scenario === 'd') {
          // A fresh app each time (no state of the last outage carries over: jwks-rsa's rate-limit
          // bucket, jwks-cache's backoff), warmed with the issuer up; then the outage, and the
          // load once the 1 s cache age has passed.
          app = await startApp(contender, 'short-ttl');
          await cell(app, 'b', D_WARM_SECONDS);
          await sleep(200);
          const warmed = await probe(app, tokens[nextToken++ % TOKENS]);
          if (warmed.status !== 200) throw new Error(`${contender}: warm-up before d gave ${warmed.status} ${warmed.body}`);
          issuer.behave('status', 500);
          await sleep(SHORT_TTL_MS + 500);
        }
        const result = await cell(app, scenario, SECONDS[scenario]);
        if (scenario === 'c' || scenario === 'd') {
          samples[`${scenario}/${contender}`] ??= await probe(app, tokens[nextToken++ % TOKENS]);
          issuer.behave('ok');
        }
        if (scenario === 'd') app.child.kill();
        ((results[scenario][contender] ??= [])).push(result);
        await sleep(100);
      }
    }
    console.error(`round ${round + 1} of ${ROUNDS} done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  load.push(loadavg()[0]);
  const runSeconds = (performance.now() - started) / 1000;
  for (const app of apps.values()) app.child.kill();
  await issuer.close();

  // -------------------------------------------------------------------------------------------
  // Tables.
  const median = (values) => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const med = (scenario, contender, field) => median(results[scenario][contender].map((r) => r[field]));
  const k = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} k` : v >= 1000 ? `${(v / 1000).toFixed(2)} k` : v.toFixed(0));
  const ms = (v) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
  const ratio = (x, y) => (y > 0 ? `${(x / y).toFixed(2)}x` : x > 0 ? 'inf' : '-');
  const range = (values) => `${k(Math.min(...values))}-${k(Math.max(...values))}`;
  const sumCounts = (cells, field) => {
    const total = {};
    for (const c of cells) for (const [key, n] of Object.entries(c[field] ?? {})) total[key] = (total[key] ?? 0) + n;
    return total;
  };
  const share = (counts) => {
    const all = Object.values(counts).reduce((x, y) => x + y, 0);
    return Object.entries(counts)
      .sort((x, y) => y[1] - x[1])
      .map(([key, n]) => `${key}: ${((100 * n) / all).toFixed(n === all ? 0 : 1)}%`)
      .join(', ');
  };
  const SCENARIOS = {
    a: 'a. one token, repeated',
    b: `b. ${TOKENS.toLocaleString('en')} distinct tokens, cycled`,
    c: 'c. as b, JWKS endpoint answering 500, caches fresh',
    d: `d. as b, JWKS endpoint answering 500, caches past their TTL (${SHORT_TTL_MS / 1000} s)`,
  };

  const lines = [];
  const out = (...l) => lines.push(...l);
  const cpu = cpus();
  out(
    `Node ${process.version}, ${cpu[0]?.model.replace(/ \d+-Core Processor.*/, '').trim()} (${cpu.length} cores, shared), ${new Date().toISOString().slice(0, 10)}; \`node bench/http.js\`;`,
    `Express ${readVersion('express')}, express-jwt ${readVersion('express-jwt')}, jwks-rsa ${readVersion('jwks-rsa')}, jose ${readVersion('jose')}, autocannon ${readVersion('autocannon')};`,
    `${ROUNDS} rounds, ${CONNECTIONS} connections, seconds per cell: ${Object.entries(SECONDS).map(([s, n]) => `${s} ${n}`).join(', ')}; ES256 tokens (P-256), ${TOKENS.toLocaleString('en')} signed in ${(signMs / 1000).toFixed(1)} s;`,
    `load average ${load[0].toFixed(2)} at start, ${load[1].toFixed(2)} at end; the run took ${runSeconds.toFixed(0)} s.`,
    '',
    '### Summary: jwks-cache against the others',
    '',
    '| scenario | jwks-cache req/s | express-jwt + jwks-rsa req/s | jose req/s | jwks-cache ÷ express-jwt | jwks-cache ÷ jose | p99 ms: jwks-cache / express-jwt / jose | app CPU µs per request: jwks-cache / express-jwt / jose |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const scenario of ['a', 'b', 'c', 'd']) {
    const field = scenario === 'd' ? 'ok' : 'rps';
    const [jc, ej, jo] = CONTENDERS.map((c) => med(scenario, c, field));
    // Ratios: the median of the per-round ratios (each round's cells ran close together in time).
    const perRound = (other) => median(results[scenario]['jwks-cache'].map((r, i) => r[field] / Math.max(1e-9, results[scenario][other][i][field])));
    const ratioCell = (other, value) => (value > 0 ? `${perRound(other).toFixed(2)}x` : jc > 0 ? 'only jwks-cache answers 200' : '-');
    const p99 = CONTENDERS.map((c) => ms(med(scenario, c, 'p99'))).join(' / ');
    const cpuCells = CONTENDERS.map((c) => med(scenario, c, 'appCpuPerRequestUs').toFixed(0)).join(' / ');
    out(`| ${SCENARIOS[scenario]}${scenario === 'd' ? ' (200s per second)' : ''} | ${k(jc)} | ${k(ej)} | ${k(jo)} | ${ratioCell('express-jwt', ej)} | ${ratioCell('jose', jo)} | ${p99} | ${cpuCells} |`);
  }
  out(
    '',
    `Express alone (the same layers, a middleware on /api that does nothing): ${k(med('a', 'none', 'rps'))} req/s, p99 ${ms(med('a', 'none', 'p99'))} ms: the ceiling of this app, machine and load generator.`,
    '',
    'req/s: responses per second (any status; in d only the 200s, since the others fail there), median of the rounds;',
    'ratios: the median of the per-round ratios. p99: autocannon\'s 99th percentile latency, median of the rounds. App CPU per',
    'request: the app process\'s CPU time (all threads) over the cell divided by its responses, median of the rounds (see below).',
    '',
    '### Every cell',
    '',
    '| scenario | contender | req/s, median (range) | p50 / p99 ms | answers | JWKS requests during a cell | app CPU per request: all threads / event loop | CPU used: app / load generator / rest of the machine |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |',
  );
  for (const scenario of ['a', 'b', 'c', 'd']) {
    for (const contender of [...CONTENDERS, 'none']) {
      const cells = results[scenario][contender];
      if (!cells) continue;
      const answers = share(cells[0].codes ? sumCounts(cells, 'codes') : sumCounts(cells, 'statuses'));
      const errors = cells.reduce((n, c) => n + c.errors, 0);
      out(
        `| ${scenario} | ${LABELS[contender]} | ${k(med(scenario, contender, 'rps'))} (${range(cells.map((c) => c.rps))}) | ${ms(med(scenario, contender, 'p50'))} / ${ms(med(scenario, contender, 'p99'))} | ${answers}${errors ? `; ${errors} socket errors or timeouts` : ''} | ${cells.map((c) => c.jwksRequests).join(', ')} | ${med(scenario, contender, 'appCpuPerRequestUs').toFixed(0)} / ${med(scenario, contender, 'loopPerRequestUs').toFixed(0)} µs | ${(100 * med(scenario, contender, 'appCpuShare')).toFixed(0)}% / ${(100 * med(scenario, contender, 'loaderCpuShare')).toFixed(0)}% / ${(100 * med(scenario, contender, 'otherCpuShare')).toFixed(0)}% |`,
      );
    }
  }
  out(
    '',
    'answers: share of each status over all rounds; in c and d with the `code` of the JSON body of a failure. JWKS requests:',
    'what the issuer saw during each round\'s cell. App CPU per request: the app process\'s user + system CPU time over the cell',
    '(all its threads: the event loop, libuv\'s pool, GC), and the time its event loop was busy (`performance.eventLoopUtilization`),',
    'each divided by the responses, median of the rounds. CPU used: the share of one core each used over the cell (median of the',
    'rounds): the app, the load generator (autocannon, in the parent with the idle issuer), and every other process on the machine',
    '(from /proc/stat: the machine\'s busy time less the first two); the machine has 2 cores, 200%.',
    '',
    'One request right after the first round\'s outage cell (status, body):',
    '',
    '| scenario | contender | answer |',
    '| --- | --- | --- |',
  );
  for (const [key, sample] of Object.entries(samples)) {
    const [scenario, contender] = key.split('/');
    out(`| ${scenario} | ${LABELS[contender]} | ${sample.status} \`${sample.body.slice(0, 160)}\` |`);
  }
  const report = lines.join('\n');
  console.log(report);

  // The tables go between the markers of http.md; the notes around them are kept.
  const BEGIN = '<!-- written by bench/http.js: begin -->';
  const END = '<!-- written by bench/http.js: end -->';
  const mdPath = new URL(INLINE ? './http-inline.md' : './http.md', import.meta.url);
  const previous = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const begin = previous.indexOf(BEGIN);
  const end = previous.indexOf(END);
  const [before, after] =
    begin >= 0 && end > begin ? [previous.slice(0, begin), previous.slice(end + END.length)] : ['# HTTP benchmark: an authenticated Express endpoint\n\n', '\n'];
  writeFileSync(mdPath, `${before}${BEGIN}\n${report}\n${END}${after}`);
  process.exit(0);
}

/** The machine's busy and total CPU time so far (Linux /proc/stat, in ticks), or null elsewhere. */
function machineCpu() {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((x, y) => x + y, 0);
    return { busy: total - ticks[3] - ticks[4], total };
  } catch {
    return null;
  }
}

function readVersion(name) {
  return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
}
