// The token inspector's page: reads the token with inspectToken, loads its issuer's key set with
// loadKeySet (OpenID discovery from `iss`, or a JWKS URI typed in), shows the key the token selects
// and the rest of the set, then verifies it with the cache that loaded the set. Everything shown
// comes from the package; this module only renders it, and tells a CORS refusal from a server that
// is down (the browser hides which one it was from the package).
//
// Privacy: the token is read from the textarea when a check starts and lives in local variables
// only. It is never stored, logged, sent, or put in the URL; every text shown is set with
// textContent, never parsed as HTML.

const NETWORK_CODES = new Set(['ERR_JWKS_NETWORK', 'ERR_JWKS_FETCH']);
const PROBE_TIMEOUT_MS = 8_000;

const $ = (id) => document.getElementById(id);
const ui = {
  token: $('token'),
  jwksUri: $('jwks-uri'),
  issuer: $('issuer'),
  audience: $('audience'),
  check: $('check'),
  clear: $('clear'),
  verdict: $('verdict'),
  details: $('details'),
  findingsBlock: $('findings-block'),
  findings: $('findings'),
  times: $('times'),
  headerJson: $('header-json'),
  payloadJson: $('payload-json'),
  keySource: $('key-source'),
  matchedBlock: $('matched-block'),
  matchedKey: $('matched-key'),
  othersBlock: $('others-block'),
  othersTitle: $('others-title'),
  otherKeys: $('other-keys'),
};

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
      explanation: `This page needs the package beside it (./jwks-cache/) and WebAssembly: ${error?.message ?? error}`,
    });
  },
);

/** Each check has a number; a check that a newer one overtook renders nothing more. */
let currentRun = 0;
/** The cache loadKeySet made for the last check: closed when the next one starts. */
let openCache = null;

function closeOpenCache() {
  openCache?.close();
  openCache = null;
}

ui.check.addEventListener('click', () => void check());
ui.clear.addEventListener('click', () => {
  currentRun += 1;
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

function resetResults() {
  ui.verdict.replaceChildren();
  ui.verdict.dataset.verdict = 'idle';
  ui.verdict.className = 'verdict';
  ui.details.hidden = true;
}

async function check() {
  const run = ++currentRun;
  const stale = () => run !== currentRun;
  closeOpenCache();
  const token = ui.token.value.trim().replace(/^Bearer\s+/i, '');
  if (token === '') {
    ui.details.hidden = true;
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
    ui.details.hidden = true;
    showVerdict('refused', { title: 'Refused: this is not a token a verifier can read', code: error?.code, explanation: explain(api, error), message: error?.message });
    return;
  }
  renderToken(inspected);
  ui.details.hidden = false;

  const refusals = inspected.findings.filter((f) => f.refused);
  const iss = typeof inspected.payload.iss === 'string' && inspected.payload.iss !== '' ? inspected.payload.iss : undefined;
  const source = typedJwksUri !== undefined ? { jwksUri: typedJwksUri } : expectedIssuer !== undefined || iss !== undefined ? { issuer: expectedIssuer ?? iss } : null;

  if (source === null) {
    renderKeySource(null);
    renderNoKeys('No key set: the token has no iss to discover its issuer from, and no JWKS URI was given.');
    if (refusals.length > 0) return showFindingVerdict(api, refusals[0]);
    showVerdict('cannot-check', {
      title: 'Cannot check the signature: no key set',
      explanation: 'The token has no iss claim to find its issuer’s keys from. Type the JWKS URI (or the expected issuer) and check again.',
    });
    return;
  }

  renderKeySource(source, { loading: true });
  renderNoKeys('Loading…');
  let loaded;
  try {
    loaded = await api.loadKeySet(source, { maxRetries: 0 });
    if (stale()) loaded.cache.close();
    else openCache = loaded.cache;
  } catch (error) {
    const reach = isNetworkFailure(error) ? await diagnose(error, source) : null;
    if (stale()) return;
    renderKeySource(source, { error });
    renderNoKeys('The key set could not be loaded: see the verdict above.');
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
      showVerdict('refused', { title: 'Refused', code: error.code, explanation: explain(api, error), message: error.message });
    } else {
      const reach = isNetworkFailure(error) ? await diagnose(error, { jwksUri: loaded.jwksUri }) : null;
      if (stale()) return;
      showLoadFailure(api, error, reach);
    }
    return;
  }
  if (stale()) return;
  const kid = verified.key?.kid ?? match?.kid;
  const exp = inspected.times.find((t) => t.claim === 'exp');
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
    summary: `The signature verifies with key ${kid === undefined ? '(no kid)' : `“${kid}”`} (${inspected.header.alg}) of ${loaded.jwksUri}${exp ? `, and the claims are accepted: ${exp.text}.` : ', and the claims are accepted.'}`,
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

/** The key set (or discovery) failed: the code, what to fix, and for a network failure, which kind. */
function showLoadFailure(api, error, reach) {
  if (reach?.kind === 'cors') {
    showVerdict('cannot-check', {
      title: 'Cannot check: the issuer does not allow this page to read its keys (CORS)',
      code: error.code,
      explanation: `${reach.origin} answered, but without an Access-Control-Allow-Origin header, so the browser withheld the answer from this page. The server is up. To check tokens in a browser, have it send “Access-Control-Allow-Origin: *” on its discovery document and its JWKS (both are public); servers that verify tokens are not affected.`,
      message: error.message,
    });
  } else if (reach?.kind === 'unreachable' || reach?.kind === 'timeout') {
    showVerdict('cannot-check', {
      title: 'Cannot check: the issuer is unreachable',
      code: error.code,
      explanation:
        reach.kind === 'timeout'
          ? `Nothing answered at ${reach.origin} within ${PROBE_TIMEOUT_MS / 1000} s: the server is down or unreachable from this browser. This is not a CORS problem.`
          : `Nothing answered at ${reach.origin}: the server is down, or unreachable from this browser (wrong host or port, DNS, a firewall or an extension). This is not a CORS problem: no answer came at all.`,
      message: error.message,
    });
  } else {
    showVerdict('cannot-check', {
      title: `Cannot check: the key set could not be loaded${Number.isInteger(error?.status) ? ` (the server answered HTTP ${error.status})` : ''}`,
      code: error?.code,
      explanation: explain(api, error),
      message: error?.message,
    });
  }
}

function isNetworkFailure(error) {
  if (NETWORK_CODES.has(error?.code)) return true;
  // Discovery reports a network failure in its message (its code covers every discovery failure).
  return error?.code === 'ERR_OIDC_DISCOVERY_INVALID' && /\bnetwork\b/i.test(String(error.message));
}

const discoveryUrl = (issuer) => `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

/**
 * Which URL failed, then whether its server answered at all: a `no-cors` request gets an opaque
 * answer from any server that answers, CORS headers or not, and rejects only when nothing answered.
 */
async function diagnose(error, source) {
  const url = await failedUrl(error, source);
  if (url === null) return null;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  let origin;
  try {
    origin = new URL(url).origin;
  } catch {
    return null;
  }
  try {
    await fetch(url, { mode: 'no-cors', cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer', signal: controller.signal });
    return { kind: 'cors', url, origin };
  } catch {
    return { kind: controller.signal.aborted ? 'timeout' : 'unreachable', url, origin };
  } finally {
    clearTimeout(timer);
  }
}

async function failedUrl(error, source) {
  for (const member of ['url', 'uri', 'jwksUri']) {
    if (typeof error?.[member] === 'string' && error[member] !== '') return error[member];
  }
  if (error?.code === 'ERR_OIDC_DISCOVERY_INVALID') return discoveryUrl(source.issuer);
  if (source.jwksUri !== undefined) return source.jwksUri;
  // Discovery worked and the JWKS did not: its URI is in the discovery document.
  try {
    const response = await fetch(discoveryUrl(source.issuer), { cache: 'no-store', credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer' });
    const document = await response.json();
    if (typeof document?.jwks_uri === 'string') return document.jwks_uri;
  } catch {
    // nothing more to tell
  }
  return null;
}

/** `a, b` -> ['a', 'b']; one -> 'a'; none -> undefined. */
function listOf(text) {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length === 0 ? undefined : items.length === 1 ? items[0] : items;
}

// ---------------------------------------------------------------------------------------------
// Rendering. Every text goes in through textContent.

/** An element with attributes (class, data-*, others) and children (nodes or strings). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

const VERDICT_ICONS = { valid: '✓', refused: '✕', 'cannot-check': '!', checking: '…', idle: '' };

function showVerdict(kind, { title, summary, code, explanation, message, notes = [] }) {
  ui.verdict.dataset.verdict = kind;
  ui.verdict.className = `verdict verdict--${kind}`;
  const parts = [
    h('p', { class: 'verdict-title' }, VERDICT_ICONS[kind] ? h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, VERDICT_ICONS[kind]) : null, h('strong', {}, title)),
  ];
  if (summary) parts.push(h('p', { class: 'verdict-summary' }, summary));
  if (code) parts.push(h('p', { class: 'verdict-code' }, h('span', { class: 'label' }, 'Code '), h('code', {}, code)));
  if (explanation) parts.push(h('p', { class: 'verdict-explain' }, explanation));
  if (message && message !== explanation) parts.push(h('p', { class: 'verdict-message' }, h('span', { class: 'label' }, 'The error says: '), message));
  if (notes.length > 0) parts.push(h('ul', { class: 'verdict-notes' }, notes.map((note) => h('li', {}, note))));
  ui.verdict.replaceChildren(...parts);
}

function renderToken({ header, payload, times, findings }) {
  ui.findings.replaceChildren(
    ...(findings.length === 0
      ? [h('li', { class: 'finding finding--none' }, 'Nothing: the header and claims look as a verifier wants them.')]
      : findings.map((f) =>
          h(
            'li',
            { class: `finding ${f.refused ? 'finding--refused' : 'finding--note'}`, 'data-code': f.code },
            h('span', { class: 'badge' }, f.refused ? 'refused' : 'note'),
            ' ',
            h('code', { class: 'finding-code' }, f.code),
            h('span', { class: 'finding-message' }, f.message),
          ),
        )),
  );
  ui.times.replaceChildren(
    ...(times.length === 0
      ? [h('li', { class: 'time' }, 'None: no exp, nbf or iat.')]
      : times.map((t) =>
          h(
            'li',
            { class: `time${t.problem ? ' time--problem' : ''}`, 'data-claim': t.claim },
            h('code', { class: 'time-claim' }, t.claim),
            h('span', { class: 'time-text' }, t.text),
            h('span', { class: 'time-date' }, t.date ? formatDate(t.date) : `value ${JSON.stringify(t.value) ?? String(t.value)}`),
          ),
        )),
  );
  ui.headerJson.replaceChildren(jsonView(header));
  ui.payloadJson.replaceChildren(jsonView(payload));
}

/** '2026-11-26T12:00:00.000Z' -> '2026-11-26 12:00:00 UTC' */
function formatDate(iso) {
  const match = /^(\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** JSON, indented by two, as spans (keys, strings, numbers, literals) for the stylesheet to colour. */
function jsonView(value) {
  const fragment = document.createDocumentFragment();
  const text = (s) => fragment.append(document.createTextNode(s));
  const span = (cls, s) => fragment.append(h('span', { class: cls }, s));
  const walk = (v, depth) => {
    const pad = '  '.repeat(depth + 1);
    if (v === null) return span('j-lit', 'null');
    if (Array.isArray(v)) {
      if (v.length === 0) return text('[]');
      text('[\n');
      v.forEach((item, i) => {
        text(pad);
        walk(item, depth + 1);
        text(i < v.length - 1 ? ',\n' : '\n');
      });
      return text(`${'  '.repeat(depth)}]`);
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) return text('{}');
      text('{\n');
      entries.forEach(([key, item], i) => {
        text(pad);
        span('j-key', JSON.stringify(key));
        text(': ');
        walk(item, depth + 1);
        text(i < entries.length - 1 ? ',\n' : '\n');
      });
      return text(`${'  '.repeat(depth)}}`);
    }
    if (typeof v === 'string') return span('j-str', JSON.stringify(v));
    if (typeof v === 'number') return span('j-num', JSON.stringify(v));
    return span('j-lit', String(v));
  };
  walk(value, 0);
  return fragment;
}

function renderKeySource(source, { loading = false, loaded, error } = {}) {
  const lines = [];
  if (source === null) {
    lines.push(h('p', {}, 'No key set.'));
  } else if (loaded) {
    lines.push(h('p', {}, 'Key set ', h('code', { class: 'uri', 'data-field': 'jwks-uri' }, loaded.jwksUri)));
    if (source.issuer !== undefined) lines.push(h('p', { class: 'hint' }, 'found by OpenID discovery from ', h('code', { class: 'uri' }, loaded.issuer ?? source.issuer)));
  } else if (source.jwksUri !== undefined) {
    lines.push(h('p', {}, loading ? 'Loading ' : 'Key set ', h('code', { class: 'uri' }, source.jwksUri)));
  } else {
    lines.push(h('p', {}, loading ? 'Discovering the key set of ' : 'Issuer ', h('code', { class: 'uri' }, source.issuer)));
  }
  if (error) lines.push(h('p', { class: 'key-error' }, 'Not loaded: ', h('code', {}, String(error.code ?? 'error'))));
  ui.keySource.replaceChildren(...lines);
}

function renderNoKeys(text) {
  ui.matchedBlock.hidden = false;
  ui.matchedKey.replaceChildren(h('p', { class: 'hint' }, text));
  ui.othersBlock.hidden = true;
  ui.otherKeys.replaceChildren();
}

/** The selected key and the rest of the set; returns the selected entry or null. */
function renderKeys(api, keySet, header) {
  const entries = keySet.entries ?? [];
  let match = null;
  try {
    match = api.matchKey(keySet, header);
  } catch {
    match = null;
  }
  ui.matchedBlock.hidden = false;
  if (!keySet.isJwkSet) {
    ui.matchedKey.replaceChildren(h('p', { class: 'key-missing' }, 'The response is not a JWK Set: it has no keys array, so the cache finds no key in it.'));
  } else if (match) {
    ui.matchedKey.replaceChildren(keyCard(match, { matched: true, header }));
  } else {
    const why =
      typeof header.kid === 'string'
        ? `No key of the set has kid “${header.kid}”. A verifier fetches the set once more for an unknown kid (key rotation), then refuses the token.`
        : `The token has no kid, and no single key of the set can verify ${typeof header.alg === 'string' ? header.alg : 'its alg'}.`;
    ui.matchedKey.replaceChildren(h('p', { class: 'key-missing' }, why));
  }
  const others = entries.filter((entry) => entry !== match && entry.index !== match?.index);
  ui.othersBlock.hidden = !keySet.isJwkSet;
  ui.othersTitle.textContent = match ? `Other keys of the set (${others.length})` : `Keys of the set (${others.length})`;
  ui.otherKeys.replaceChildren(...(others.length === 0 ? [h('p', { class: 'hint' }, 'None.')] : others.map((entry) => keyCard(entry, { matched: false }))));
  return match;
}

function keyCard(entry, { matched }) {
  const facts = [
    ['kty', entry.kty],
    ['alg', entry.alg],
    entry.bits != null ? ['size', `${entry.bits} bits`] : ['curve', entry.crv],
    ['use', entry.use],
    ['verifies', entry.algorithms?.length ? entry.algorithms.join(', ') : null],
  ];
  return h(
    'article',
    { class: `key${matched ? ' key--match' : ''}${entry.ignored ? ' key--ignored' : ''}`, 'data-kid': entry.kid ?? '', 'data-index': entry.index },
    h(
      'p',
      { class: 'key-head' },
      h('code', { class: 'kid' }, entry.kid ?? '(no kid)'),
      matched ? h('span', { class: 'badge badge--match' }, 'selected by the token') : null,
      entry.ignored ? h('span', { class: 'badge badge--ignored' }, 'ignored') : null,
      h('span', { class: 'key-index' }, `entry ${entry.index}`),
    ),
    h(
      'dl',
      { class: 'key-facts' },
      facts.map(([name, value]) => h('div', { 'data-field': name }, h('dt', {}, name), h('dd', { class: value == null ? 'absent' : undefined }, value == null ? 'absent' : String(value)))),
    ),
    entry.ignored ? h('p', { class: 'key-ignored' }, entry.ignored) : null,
  );
}
