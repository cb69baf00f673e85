// The token inspector's page: reads the token with inspectToken, loads its issuer's key set with
// loadKeySet (OpenID discovery from `iss`, or a JWKS URI typed in), shows the key the token selects
// and the rest of the set, then verifies it with the cache that loaded the set, and says the
// verdict. Everything shown comes from the package; render.js draws it, and reach.js finds out
// what the browser hides from the package when a request failed at the network level (this page's
// own Content-Security-Policy, nothing answering, or an answer withheld from the page: most often
// CORS).
//
// Privacy: the token is read from the textarea when a check starts and lives in local variables
// only. It is never stored, logged, sent, or put in the URL; every text shown is set with
// textContent, never parsed as HTML.

import { PROBE_TIMEOUT_MS, diagnose, isNetworkFailure, watchPolicyViolations } from './reach.js';
import {
  PROSE_MAX,
  clearDetails,
  outside,
  quoted,
  renderKeySource,
  renderKeys,
  renderNoKeys,
  renderToken,
  resetResults,
  showVerdict,
  ui,
} from './render.js';

// The package loads (and compiles its wasm) while the page is read; a page that cannot load it says so.
const packageLoading = import('./jwks-cache/browser.js');
packageLoading.then(
  () => {
    document.documentElement.dataset.inspector = 'ready';
  },
  (error) => {
    document.documentElement.dataset.inspector = 'failed';
    showVerdict('cannot-check', {
      title: 'The jwks-cache package could not be loaded',
      explanation: ['This page needs the package beside it (./jwks-cache/) and WebAssembly: ', outside(String(error?.message ?? error))],
    });
  },
);

/**
 * The check under way: { signal, controller, blocked }. A newer check or Clear aborts it (its
 * requests with it) and it renders nothing more. `blocked` holds the URLs this page's
 * Content-Security-Policy refused to connect to while it ran.
 */
let currentRun = null;
/** The cache loadKeySet made for the last check: closed when the next one starts. */
let openCache = null;

function closeOpenCache() {
  openCache?.close();
  openCache = null;
}

function startRun() {
  currentRun?.controller.abort();
  const controller = new AbortController();
  currentRun = { controller, signal: controller.signal, blocked: [] };
  return currentRun;
}

function cancelRun() {
  currentRun?.controller.abort();
  currentRun = null;
}

watchPolicyViolations(() => currentRun);

ui.check.addEventListener('click', () => void check());
ui.clear.addEventListener('click', () => {
  cancelRun();
  closeOpenCache();
  ui.token.value = '';
  resetResults();
  ui.token.focus();
});
ui.token.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    void check();
  }
});
for (const input of [ui.jwksUri, ui.issuer, ui.audience]) {
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void check();
    }
  });
}

async function check() {
  const run = startRun();
  const stale = () => run !== currentRun || run.signal.aborted;
  closeOpenCache();
  const token = ui.token.value.trim().replace(/^Bearer\s+/i, '');
  if (token === '') {
    clearDetails();
    showVerdict('idle', { title: 'Paste a token first.' });
    return;
  }
  showVerdict('checking', { title: 'Checking…' });
  let api;
  try {
    api = await packageLoading;
  } catch {
    return; // said when loading failed
  }
  if (stale()) return;

  const expectedIssuer = ui.issuer.value.trim() || undefined;
  const audience = listOf(ui.audience.value);
  const typedJwksUri = ui.jwksUri.value.trim() || undefined;

  let inspected;
  try {
    inspected = api.inspectToken(token);
  } catch (error) {
    clearDetails();
    showVerdict('refused', { title: 'Refused: this is not a token a verifier can read', code: error?.code, explanation: explain(api, error), message: error?.message });
    return;
  }
  renderToken(inspected);
  ui.details.hidden = false;

  const iss = typeof inspected.payload.iss === 'string' && inspected.payload.iss !== '' ? inspected.payload.iss : undefined;
  const source = typedJwksUri !== undefined ? { jwksUri: typedJwksUri } : expectedIssuer !== undefined || iss !== undefined ? { issuer: expectedIssuer ?? iss } : null;

  if (source === null) {
    renderKeySource(null);
    renderNoKeys('No key set: the token has no iss to discover its issuer from, and no JWKS URI was given.');
    const refusals = inspected.findings.filter((f) => f.refused);
    if (refusals.length > 0) return showFindingVerdict(api, refusals[0]);
    showVerdict('cannot-check', {
      title: 'Cannot check the signature: no key set',
      explanation: 'The token has no iss claim to find its issuer’s keys from. Type the JWKS URI (or the expected issuer) and check again.',
    });
    return;
  }

  // Every request of this check is aborted with it (a newer check, Clear).
  const runFetch = (url, init) => fetch(url, { ...init, signal: AbortSignal.any([init?.signal, run.signal].filter(Boolean)) });
  /** The token judged again now: the fetch may have taken long enough to change what its times say. */
  const reinspect = () => {
    try {
      const fresh = api.inspectToken(token);
      renderToken(fresh);
      return fresh;
    } catch {
      return inspected;
    }
  };

  renderKeySource(source, { loading: true });
  renderNoKeys('Loading…');
  let loaded;
  try {
    loaded = await api.loadKeySet(source, { maxRetries: 0, fetch: runFetch });
    if (stale()) loaded.cache.close();
    else openCache = loaded.cache;
  } catch (error) {
    if (stale()) return;
    const reach = isNetworkFailure(error) ? await diagnose(run, error.uri) : null;
    if (stale()) return;
    const fresh = reinspect();
    renderKeySource(source, { error });
    renderNoKeys('The key set could not be loaded: see the verdict above.');
    const refusals = fresh.findings.filter((f) => f.refused);
    if (refusals.length > 0) return showFindingVerdict(api, refusals[0], 'The key set could not be loaded either.');
    showLoadFailure(api, error, reach);
    return;
  }
  if (stale()) return;
  renderKeySource(source, { loaded });
  const match = renderKeys(api, loaded.keySet, inspected.header);

  const options = { jwksUri: loaded.jwksUri };
  if (expectedIssuer !== undefined) options.issuer = expectedIssuer;
  if (audience !== undefined) options.audience = audience;
  let verified;
  try {
    verified = await loaded.cache.verify(token, options);
  } catch (error) {
    if (stale()) return;
    if (isRefusal(api, error)) {
      reinspect();
      showVerdict('refused', { title: 'Refused', code: error.code, explanation: explain(api, error), message: error.message });
    } else {
      // verify fetches only the set loadKeySet found (again, for an unknown kid).
      const reach = isNetworkFailure(error) ? await diagnose(run, error.uri ?? loaded.jwksUri) : null;
      if (stale()) return;
      reinspect();
      showLoadFailure(api, error, reach);
    }
    return;
  }
  if (stale()) return;
  const fresh = reinspect();
  const kid = verified.key?.kid ?? match?.kid;
  const alg = verified.protectedHeader?.alg ?? inspected.header.alg;
  const exp = fresh.times.find((t) => t.claim === 'exp');
  const notes = [];
  if (expectedIssuer === undefined) {
    notes.push(
      source.issuer !== undefined
        ? 'Issuer not checked: the keys were found from the token’s own iss. Type the issuer you expect, or any issuer’s token passes here.'
        : 'Issuer not checked: type the issuer you expect.',
    );
  }
  if (audience === undefined) notes.push('Audience not checked: type the audience your API expects.');
  showVerdict('valid', {
    title: 'Valid',
    summary: [
      'The signature verifies with key ',
      typeof kid === 'string' ? quoted(kid, { max: PROSE_MAX, kid: true }) : '(no kid)',
      ' (',
      outside(String(alg)),
      ') of ',
      outside(loaded.jwksUri, { tag: 'bdi', cls: 'uri' }),
      exp ? `, and the claims are accepted: ${exp.text}.` : ', and the claims are accepted.',
    ],
    notes,
  });
}

/** A verifier's refusal of the token itself (red), as opposed to failing to get a key set (amber). */
function isRefusal(api, error) {
  return error instanceof api.JwtError || /^ERR_JW[TS]_/.test(String(error?.code));
}

function explain(api, error) {
  try {
    return api.explainError(error);
  } catch {
    return '';
  }
}

function showFindingVerdict(api, finding, note) {
  showVerdict('refused', {
    title: 'Refused',
    code: finding.code,
    explanation: explain(api, { code: finding.code, message: finding.message }),
    message: finding.message,
    notes: note ? [note] : [],
  });
}

/** The key set (or discovery) failed: the code, what to fix, and for a network failure, what is known of it. */
function showLoadFailure(api, error, reach) {
  const url = reach ? outside(reach.url, { tag: 'bdi', cls: 'uri' }) : null;
  if (reach?.kind === 'blocked') {
    showVerdict('cannot-check', {
      title: 'Cannot check: this page may not connect to that server (its Content-Security-Policy)',
      code: error.code,
      explanation: [
        'The browser did not send the request for ',
        url,
        ': this page’s Content-Security-Policy only lets it connect to https: addresses and to http on 127.0.0.1 or localhost. Nothing is known of that server. To check its tokens here, serve the issuer on https:, or on http://127.0.0.1 or http://localhost.',
      ],
      message: error.message,
    });
  } else if (reach?.kind === 'answered') {
    showVerdict('cannot-check', {
      title: 'Cannot check: the server answered, but this page could not read the response (CORS?)',
      code: error.code,
      explanation: [
        outside(reach.origin, { tag: 'bdi', cls: 'uri' }),
        ' answered, but this page could not read the response from ',
        url,
        '. Most often that is CORS: the response has no Access-Control-Allow-Origin header, or one that names another origin, so the browser withholds it from this page. Otherwise the response broke off on the way (a connection cut mid-body, a corrupt compressed body). Check that it sends “Access-Control-Allow-Origin: *” (the discovery document and the JWKS are public; servers that verify tokens are not affected) and that it serves a whole response; this browser’s console says which it was.',
      ],
      message: error.message,
    });
  } else if (reach?.kind === 'unreachable' || reach?.kind === 'timeout') {
    const at = outside(reach.origin, { tag: 'bdi', cls: 'uri' });
    showVerdict('cannot-check', {
      title: 'Cannot check: the issuer is unreachable',
      code: error.code,
      explanation:
        reach.kind === 'timeout'
          ? ['Nothing answered at ', at, ` within ${PROBE_TIMEOUT_MS / 1000} s: the server is down or unreachable from this browser. This is not a CORS problem.`]
          : ['Nothing answered at ', at, ': the server is down, or unreachable from this browser (wrong host or port, DNS, a firewall or an extension). This is not a CORS problem: no answer came at all.'],
      message: error.message,
    });
  } else {
    const status = Number.isInteger(error?.status) ? ` (the server answered HTTP ${error.status})` : '';
    showVerdict('cannot-check', {
      title: error?.code === 'ERR_OIDC_DISCOVERY_INVALID' ? `Cannot check: OpenID discovery failed${status}` : `Cannot check: the key set could not be loaded${status}`,
      code: error?.code,
      explanation: explain(api, error),
      message: error?.message,
    });
  }
}

/** `a, b` -> ['a', 'b']; one -> 'a'; none -> undefined. */
function listOf(text) {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length === 0 ? undefined : items.length === 1 ? items[0] : items;
}
