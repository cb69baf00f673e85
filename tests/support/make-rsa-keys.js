// Writes tests/data/rsa-keys.json: 32 RSA-2048 private keys as JWKs, for tests/support/rsa-keys.js.
// Made once, kept as test data: Node 20.20 can deadlock for good when a garbage collection runs
// while it exports a freshly generated RSA key (see tests/runtimes/make-cases.js), so the tests
// never generate one. Test keys only. Run: node tests/support/make-rsa-keys.js
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const keys = Array.from({ length: 32 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }));
writeFileSync(new URL('../data/rsa-keys.json', import.meta.url), `${JSON.stringify(keys, null, 0).replaceAll('},{', '},\n{')}\n`);
