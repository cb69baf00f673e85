// Runs the Worker of src/ in real workerd (Miniflare, which `wrangler dev` runs too), bundled as
// Wrangler bundles it, against the local issuer (its JWKS_URI replaces wrangler.toml's):
//   node examples/hono-worker/run.js           serve on 127.0.0.1:8787 and print a token to try
//   node examples/hono-worker/run.js --check   make three requests and exit (what the tests run)
// With Wrangler installed (Node 22), `npx wrangler dev` in this directory runs the same Worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { startLocalIssuer, checkApi, AUDIENCE } from '../local-issuer.js';

const issuer = await startLocalIssuer();
const outdir = mkdtempSync(join(tmpdir(), 'hono-worker-'));
await build({
  entryPoints: [fileURLToPath(new URL('./src/index.js', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  loader: { '.wasm': 'copy' },
  outdir,
  logLevel: 'error',
});
const check = process.argv.includes('--check');
const mf = new Miniflare({
  modules: true,
  scriptPath: join(outdir, 'index.js'),
  modulesRoot: outdir,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: '2026-04-01',
  bindings: { JWKS_URI: issuer.jwksUri, AUDIENCE },
  host: '127.0.0.1',
  port: check ? 0 : 8787,
});
const origin = (await mf.ready).origin;
if (check) {
  const ok = await checkApi(origin, issuer);
  await mf.dispose();
  await issuer.close();
  rmSync(outdir, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
} else {
  console.log(`Hono Worker on ${origin}; try:\n  curl -H 'Authorization: Bearer ${issuer.token()}' ${origin}/api/orders`);
}
