// Worker scripts bundled as Wrangler bundles them (esbuild, the `workerd` condition, the .wasm as
// a module) and run in real workerd through Miniflare, for the workerd tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

/** Bundles `entry` (a file URL): `{ start(options), remove() }`; start() may run it several times. */
export async function bundleWorker(entry) {
  const outdir = mkdtempSync(join(tmpdir(), 'jwks-cache-worker-'));
  const entryPath = fileURLToPath(entry);
  await build({
    entryPoints: [entryPath],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    loader: { '.wasm': 'copy' },
    outdir,
    logLevel: 'error',
  });
  return {
    /** The directory holding the bundle (the script and the .wasm it imports). */
    dir: outdir,
    /** A Miniflare running the bundle, ready; `options` are more Miniflare options (bindings, KV...). */
    async start(options = {}) {
      const mf = new Miniflare({
        modules: true,
        scriptPath: join(outdir, basename(entryPath)),
        modulesRoot: outdir,
        modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
        compatibilityDate: '2026-04-01',
        ...options,
      });
      await mf.ready;
      return mf;
    },
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** Bundles `entry` and starts it once; `dispose()` stops it and removes the bundle. */
export async function startBundledWorker(entry, options) {
  const bundle = await bundleWorker(entry);
  const mf = await bundle.start(options);
  return {
    dispatchFetch: (...args) => mf.dispatchFetch(...args),
    async dispose() {
      await mf.dispose();
      bundle.remove();
    },
  };
}
