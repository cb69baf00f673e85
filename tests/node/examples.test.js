// The examples run, so that they never rot: each against the local issuer, with --check (three
// requests: a valid token, an expired one, none), exiting 0 only when all are answered as expected;
// and the demo behind `make demo`, to its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

for (const example of ['examples/express-app.js', 'examples/fastify-app.js', 'examples/hono-worker/run.js']) {
  test(`${example} --check`, async () => {
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile(process.execPath, [example, '--check'], { cwd: root, timeout: 60_000 }, (error, out, err) =>
        resolve({ code: error ? (error.code ?? 1) : 0, stdout: out, stderr: err }),
      );
    });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^valid token +-> 200 /m);
    assert.match(stdout, /^expired token +-> 401 .*ERR_JWT_EXPIRED/m);
    assert.match(stdout, /^no token +-> 401 /m);
  });
}

test('examples/demo.js (make demo) runs to its end, saying what the README says it shows', async () => {
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(process.execPath, ['examples/demo.js'], { cwd: root, timeout: 120_000 }, (error, out, err) => resolve({ code: error ? (error.code ?? 1) : 0, stdout: out, stderr: err }));
  });
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /all 500 got signing-2026-11 .*the issuer saw 1 JWKS request/);
  assert.match(stdout, /forceRefresh\(uri\) fails clearly: JwksFetchError ERR_JWKS_HTTP_STATUS/);
  assert.match(stdout, /the good set was kept: getKey\('signing-2026-12'\) = signing-2026-12 .*\(0 requests\)/);
  assert.match(stdout, /a changed signature: ERR_JWS_SIGNATURE_INVALID/);
  assert.match(stdout, /^Done: \d+ JWKS requests in all\.$/m);
});
