// What a page can find out about a request that failed at the network level, which the browser
// hides from the package (a fetch refused by CORS, by this page's own Content-Security-Policy, or
// one nothing answered all reject alike): a policy violation is seen as an event; otherwise a
// `no-cors` request to the same URL gets an opaque answer from any server that answers, CORS
// headers or not, and rejects only when nothing answered.

export const PROBE_TIMEOUT_MS = 8_000;

/**
 * Records the URLs this page's policy refuses to connect to in the running check's `blocked` list
 * (`currentRun()` gives that check, or null): a refused request never leaves the browser, and
 * fails like one nothing answered.
 */
export function watchPolicyViolations(currentRun) {
  document.addEventListener('securitypolicyviolation', (event) => {
    const run = currentRun();
    if (run !== null && /^connect-src\b/.test(event.effectiveDirective || event.violatedDirective)) run.blocked.push(event.blockedURI);
  });
}

/** A request that got no readable answer: the package says so by its code (and discovery's reason). */
export function isNetworkFailure(error) {
  return error?.code === 'ERR_JWKS_NETWORK' || (error?.code === 'ERR_OIDC_DISCOVERY_INVALID' && error.reason === 'network');
}

/** Resolves after the tasks queued so far (a policy violation's event among them). */
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

function blockedByPolicy(run, url) {
  const origin = originOf(url);
  return run.blocked.some((blocked) => blocked === url || (origin !== null && originOf(blocked) === origin));
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * What can be known of a failed request to `url` (the one the package names): blocked by this page's
 * policy (then nothing was sent), or, by a `no-cors` request, whether its server answered at all:
 * that gets an opaque answer from any server that answers, CORS headers or not, and rejects only
 * when nothing answered. Null when there is no URL, or the check was aborted.
 */
export async function diagnose(run, url) {
  if (typeof url !== 'string' || url === '') return null;
  const origin = originOf(url);
  if (origin === null) return null;
  await nextTask();
  if (run.signal.aborted) return null;
  if (blockedByPolicy(run, url)) return { kind: 'blocked', url, origin };
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), PROBE_TIMEOUT_MS);
  try {
    await fetch(url, {
      mode: 'no-cors',
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      signal: AbortSignal.any([timeout.signal, run.signal]),
    });
    return { kind: 'answered', url, origin };
  } catch {
    if (run.signal.aborted) return null;
    await nextTask();
    if (blockedByPolicy(run, url)) return { kind: 'blocked', url, origin };
    return { kind: timeout.signal.aborted ? 'timeout' : 'unreachable', url, origin };
  } finally {
    clearTimeout(timer);
  }
}
