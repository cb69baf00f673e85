// How the tests provoke a real trap in the wasm core, the same way in Node, workerd and Chromium.
// The bounds leave no way to exhaust the core's memory from outside, so the test does it first:
//   1. the cache parses ROOMY_JWKS and drops it, which leaves the Rust allocator about 1 MB free:
//      enough to take in the next body, so that the trap comes inside the core, while it holds the
//      cache's state (a trap while a body is copied in, before the core is entered, harms nothing);
//   2. exhaustWasmMemory grows the package's wasm memory to its limit, so the allocator cannot grow;
//   3. the cache gets HUNGRY_JWKS: within every bound, but a few megabytes once read: two copies
//      of one kid whose long arrays differ only at their ends, so that the core lists every entry
//      of both to compare them. It traps.
// No Node APIs here: the worker bundle and the browser page import this module too.

export const ROOMY_JWKS = `{"keys":[],"pad":"${'p'.repeat(500_000)}"}`;
// Two entries of about 190 KB each: under the default 100 keys and 512 KiB.
// The allocation that fails is a list of entries, large, and what the trap leaks leaves room for
// a fresh core.
const longArray = (last) => `[${Array(95_000).fill('0').join(',')},${last}]`;
export const HUNGRY_JWKS = `{"keys":[{"kid":"a","x":${longArray(1)}},{"kid":"a","x":${longArray(2)}}]}`;

const PAGE = 65536;
const MAX_PAGES = 65536;

/**
 * Grows `memory` (the package's own: `initSync` of its glue, already initialised, hands back its
 * exports) as far as the runtime lets it, in ever smaller steps. Returns { pagesBefore, pagesAfter }.
 */
export function exhaustWasmMemory(memory) {
  const pages = () => memory.buffer.byteLength / PAGE;
  const pagesBefore = pages();
  for (let step = MAX_PAGES; step >= 1; step = Math.floor(step / 2)) {
    while (pages() < MAX_PAGES) {
      try {
        memory.grow(Math.min(step, MAX_PAGES - pages()));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        break;
      }
    }
  }
  return { pagesBefore, pagesAfter: pages() };
}
