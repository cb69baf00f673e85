// inspectToken: what a person debugging auth wants to see of a token at once, NOT verified: its
// header and payload (as decodeJwt reads them), its time claims in words, and what verification
// would make of it before any key is looked up. The findings are the core's
// (src/token_findings.rs: verification's own header and claim rules); this module only words the
// times, which is presentation.

import { inspectToken as readToken } from './wasm/jwks_cache.js';
import { inCore, JwksArgumentError } from './errors.js';

const TIME_CLAIMS = ['exp', 'nbf', 'iat'];
/** The NumericDate range verification accepts (src/claims.rs). */
const MAX_NUMERIC_DATE = 8.64e12;

/**
 * @param {string} token
 * @param {{ now?: number }} [options] the time to judge it at, in ms since the epoch (default: now)
 */
export function inspectToken(token, options = {}) {
  if (options === null || typeof options !== 'object') throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: options must be an object');
  let now;
  try {
    now = options.now ?? Date.now();
  } catch (cause) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
  }
  const [headerText, payloadText, flat] = inCore(() => readToken(token, now));
  const findings = [];
  for (let at = 0; at < flat.length; at += 3) findings.push({ code: flat[at], refused: flat[at + 1], message: flat[at + 2] });
  const payload = JSON.parse(payloadText);
  const times = TIME_CLAIMS.filter((claim) => Object.hasOwn(payload, claim)).map((claim) => describeTime(claim, payload[claim], now));
  return { header: JSON.parse(headerText), payload, times, findings };
}

/** One time claim in words, judged at `now` as verification judges it (no clock tolerance). */
function describeTime(claim, value, now) {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_NUMERIC_DATE)) {
    return { claim, value, date: null, text: 'not a NumericDate (seconds since 1970): verification refuses the token', problem: true };
  }
  const ms = value * 1000;
  const date = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const when = relative(ms - now);
  const future = ms > now;
  switch (claim) {
    case 'exp':
      // Expired at the second itself (now >= exp), as verification decides.
      return future ? { claim, value, date, text: `expires ${when}`, problem: false } : { claim, value, date, text: `expired ${when}`, problem: true };
    case 'nbf':
      return future ? { claim, value, date, text: `not valid before ${date} (${when})`, problem: true } : { claim, value, date, text: `valid since ${when}`, problem: false };
    default:
      return future ? { claim, value, date, text: `issued in the future (${when}): verification refuses it`, problem: true } : { claim, value, date, text: `issued ${when}`, problem: false };
  }
}

/** "in 4 min", "2 h ago", "now". */
export function relative(deltaMs) {
  const seconds = Math.round(Math.abs(deltaMs) / 1000);
  if (seconds === 0) return 'now';
  // A unit is used from one whole of it, and up to where it would round to the next unit's one
  // (59 min 40 s is "1 h", not "60 min").
  const span =
    seconds < 60 ? `${seconds} s`
    : seconds < 59.5 * 60 ? `${Math.round(seconds / 60)} min`
    : seconds < 47.5 * 3600 ? `${Math.round(seconds / 3600)} h`
    : seconds < 729.5 * 86400 ? `${Math.round(seconds / 86400)} days`
    : `${Math.round(seconds / (365.25 * 86400))} years`;
  return deltaMs > 0 ? `in ${span}` : `${span} ago`;
}
