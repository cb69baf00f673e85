// `promtool check metrics` on an exposition text, for the metrics tests: the reference parser and
// linter of the Prometheus text format. Needs Debian's prometheus package (promtool; installed by
// scripts/ensure-tools.sh --store, run by `make test`). Debian 12 ships promtool 2.42.
//
//   const { ok, output, code, problems } = await checkMetrics(await registry.metrics());
//   assert.ok(ok, output);
//
// What promtool 2.42 does (measured here):
//   exit 0  the text parses and lints clean (also: an empty text; a trailing `# EOF`)
//   exit 3  it parses, but the linter complains, one line per problem on stderr, "<name> <text>":
//           "x no help text", `x counter metrics should have "_total" suffix`,
//           "x_ms metric names should not contain abbreviated units", ...
//   exit 1  it does not parse: "error while linting: text format parsing error in line N: ..."
// It does not check that a series appears once, nor a histogram's buckets (a missing +Inf bucket
// passes): assert those separately. `ok` is exit 0, so lint problems make ok false; `problems`
// lists them (empty on a parse error, whose message is in `output`).

import { spawn } from 'node:child_process';

/** @returns {Promise<{ ok: boolean, output: string, code: number, problems: string[] }>} */
export function checkMetrics(text) {
  return new Promise((resolve, reject) => {
    const proc = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    proc.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    proc.on('error', (err) => {
      if (err.code === 'ENOENT') err.message = `promtool not found (scripts/ensure-tools.sh --store installs it): ${err.message}`;
      reject(err);
    });
    proc.on('close', (code, signal) => {
      if (code === null) return reject(new Error(`promtool killed by ${signal}: ${output}`));
      const problems = code === 3 ? output.split('\n').filter((line) => line.trim() !== '') : [];
      resolve({ ok: code === 0, output, code, problems });
    });
    // promtool may exit before reading all of a bad text: ignore EPIPE, the exit code tells.
    proc.stdin.on('error', () => {});
    proc.stdin.end(text);
  });
}
