// A real redis-server on 127.0.0.1 for the shared-store tests, one per call, on a free port, with
// no persistence (nothing is saved: a kill loses every key, as a crash of a cache-only Redis would).
// Needs Debian's redis-server (scripts/ensure-tools.sh --store, run by `make test`).
//
//   const redis = await startRedis();                // or startRedis({ args: ['--maxmemory', '1mb'] })
//   redis.url          // redis://127.0.0.1:<port>  (node-redis createClient({ url }), new IORedis(url))
//   redis.port, redis.dir, redis.pid (undefined while down), redis.running
//   await redis.kill()     // SIGKILL, as a crash; resolves once it has exited
//   await redis.restart()  // starts it again on the same port (empty); resolves once it answers PING
//   await redis.stop()     // stops it for good and removes its directory
//
// No redis-server outlives the test process: an 'exit' handler kills any still running, and each
// server has a watchdog (a shell reading a pipe from this process) that kills it when this process
// dies without running its handlers (SIGKILL, or a signal's default action such as the test
// runner's SIGTERM on a timeout).

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_TIMEOUT_MS = 10_000;

/** Every server not yet stopped, for the exit handler. */
const live = new Set();
let exitHandler = false;

function installExitHandler() {
  if (exitHandler) return;
  exitHandler = true;
  process.on('exit', () => {
    for (const server of live) server.killNow();
  });
}

/** A port free on 127.0.0.1 just now (the OS's pick). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves true once a PING on 127.0.0.1:port is answered +PONG, false on any failure. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {object} [options]
 * @param {string[]} [options.args] more redis-server arguments, e.g. ['--maxmemory', '10mb']
 */
export async function startRedis({ args = [] } = {}) {
  installExitHandler();
  const dir = mkdtempSync(join(tmpdir(), 'jwks-cache-redis-'));
  const logFile = join(dir, 'redis.log');
  const outFile = join(dir, 'redis.out');
  let port;
  let child = null; // the running redis-server, if any
  let watchdog = null;
  let stopped = false;

  const server = {
    killNow() {
      // Synchronous, for the exit handler: no waiting possible there.
      watchdog?.kill('SIGKILL');
      child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(server);

  function log() {
    const tail = (file) => {
      try {
        return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
      } catch {
        return '';
      }
    };
    return [tail(outFile), tail(logFile)].filter(Boolean).join('\n') || '(no output)';
  }

  async function launch() {
    const out = openSync(outFile, 'a');
    const proc = spawn('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--logfile', logFile,
      '--daemonize', 'no',
      ...args,
    ], { stdio: ['ignore', out, out] }); // what it says before its log file is open (bad arguments)
    closeSync(out);
    let exited = null;
    const exit = new Promise((resolve) => proc.once('exit', (code, signal) => resolve((exited = { code, signal }))));
    const spawnError = new Promise((_, reject) => proc.once('error', reject));
    spawnError.catch(() => {});
    if (proc.pid === undefined) {
      await spawnError.catch((err) => {
        if (err.code === 'ENOENT') err.message = `redis-server not found (scripts/ensure-tools.sh --store installs it): ${err.message}`;
        throw err;
      });
    }
    proc.unref();
    proc.exitPromise = exit;

    // The watchdog: `read` returns at EOF, i.e. when this process is gone and its end of the pipe
    // closed; then it kills this server and removes its dir. kill() and stop() SIGKILL it first,
    // so it does neither then. Unref'd, so that it keeps nothing alive here.
    const dog = spawn('sh', ['-c', 'while read -r _; do :; done; kill -9 "$1" 2>/dev/null; rm -rf "$2"', 'redis-watchdog', String(proc.pid), dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    dog.unref();
    dog.stdin.unref?.();
    dog.stdin.on('error', () => {});
    dog.once('error', () => {});

    child = proc;
    watchdog = dog;

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        dog.kill('SIGKILL');
        child = watchdog = null;
        const err = new Error(`redis-server exited before it was ready (${exited.code ?? exited.signal}):\n${log()}`);
        err.addressInUse = /Address already in use/i.test(log());
        throw err;
      }
      if (await ping(port)) return;
      if (Date.now() > deadline) {
        dog.kill('SIGKILL');
        proc.ref();
        proc.kill('SIGKILL');
        await exit;
        child = watchdog = null;
        throw new Error(`redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms:\n${log()}`);
      }
      await sleep(20);
    }
  }

  async function terminate(signal) {
    const proc = child;
    if (!proc) return;
    watchdog?.kill('SIGKILL');
    watchdog = null;
    proc.ref(); // unref'd while it runs; waiting for its exit must keep this process up
    proc.kill(signal);
    if (signal !== 'SIGKILL') {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await proc.exitPromise;
      clearTimeout(timer);
    } else {
      await proc.exitPromise;
    }
    child = null;
  }

  // Another process may take the port between our probe and redis binding it: try a few.
  for (let attempt = 1; ; attempt += 1) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (!err.addressInUse || attempt === 5) {
        live.delete(server);
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== null;
    },
    /** SIGKILL, as a crash; resolves once it has exited. Nothing was persisted: restart() is empty. */
    async kill() {
      await terminate('SIGKILL');
    },
    /** Starts it again on the same port (killing it first if it still runs). */
    async restart() {
      if (stopped) throw new Error('redis-server was stopped for good');
      await terminate('SIGKILL');
      await launch();
    },
    /** Stops it for good (SIGTERM, SIGKILL after 3 s) and removes its directory. */
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      live.delete(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
