// A Worker script bundled as Wrangler bundles it (esbuild, the `workerd` condition, the .wasm as
// a module), run in real workerd through Miniflare: for the workerd tests of small workers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

/** Bundles `entry` (a file URL) and starts it with `bindings`; `dispose()` stops it and removes the bundle. */
export async function startBundledWorker(entry, { bindings = {}, compatibilityDate = '2026-04-01' } = {}) {
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
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(outdir, basename(entryPath)),
    modulesRoot: outdir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate,
    bindings,
  });
  await mf.ready;
  return {
    dispatchFetch: (...args) => mf.dispatchFetch(...args),
    async dispose() {
      await mf.dispose();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
