// The token inspector's page: reads the token with inspectToken, loads its issuer's key set with
// loadKeySet (OpenID discovery from `iss`, or a JWKS URI typed in), shows the key the token selects
// and the rest of the set, then verifies it with the cache that loaded the set. Everything shown
// comes from the package; this module only renders it, and, when a request failed at the network
// level, finds out what it can that the browser hides from the package: whether this page's own
// Content-Security-Policy blocked it, whether nothing answered, or whether the server answered and
// the browser withheld the response from this page (most often CORS).
//
// Privacy: the token is read from the textarea when a check starts and lives in local variables
// only. It is never stored, logged, sent, or put in the URL; every text shown is set with
// textContent, never parsed as HTML.
//
// Strings from outside (kids, URIs, claims, members, error messages that quote them) are shown
// isolated from the text around them (<bdi>, or `unicode-bidi: isolate`), so that a direction
// control in one cannot reorder the page's own sentence, and with their invisible and
// direction-control characters written out (`\u202E`), so that two kids that differ only by one
// do not look the same.

const PROBE_TIMEOUT_MS = 8_000;
/** Kids longer than this (in characters) are shortened in sentences; the key card shows them whole. */
const PROSE_MAX = 48;

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

// A request the page's policy refuses never leaves the browser, and fails like one nothing answered:
// the violation is the only way to tell.
document.addEventListener('securitypolicyviolation', (event) => {
  if (currentRun !== null && /^connect-src\b/.test(event.effectiveDirective || event.violatedDirective)) currentRun.blocked.push(event.blockedURI);
});

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

function resetResults() {
  ui.verdict.replaceChildren();
  ui.verdict.dataset.verdict = 'idle';
  ui.verdict.className = 'verdict';
  clearDetails();
}

/** Hides the details and empties them: nothing of a previous token stays in the page. */
function clearDetails() {
  ui.details.hidden = true;
  for (const element of [ui.findings, ui.times, ui.headerJson, ui.payloadJson, ui.keySource, ui.matchedKey, ui.otherKeys]) element.replaceChildren();
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

/** A request that got no readable answer: the package says so by its code (and discovery's reason). */
function isNetworkFailure(error) {
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
async function diagnose(run, url) {
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
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/**
 * Characters shown written out: controls, format characters (zero-width ones, bidi embeddings,
 * overrides and isolates, marks, the BOM...), line and paragraph separators (which would end a
 * bidi isolate) and lone surrogates.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u2065]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');
const NON_ASCII = /[^\x20-\x7e]/u;

const codePoint = (char) => char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
/** `\u202E`; beyond the BMP `\u{E0041}`; in JSON, as JSON writes it (`\uDB40\uDC41`). */
function escapeOf(char, json) {
  const cp = char.codePointAt(0);
  if (cp <= 0xffff) return `\\u${codePoint(char)}`;
  if (json) return [char.charCodeAt(0), char.charCodeAt(1)].map((unit) => `\\u${unit.toString(16).toUpperCase()}`).join('');
  return `\\u{${codePoint(char)}}`;
}

/**
 * An outside string as nodes: its hidden characters as `\u202E` escapes (marked, with their code
 * point in a tooltip); with `nonAscii`, its other non-ASCII characters marked too.
 */
function visible(value, { nonAscii = false, json = false } = {}) {
  const nodes = [];
  let plain = '';
  for (const char of String(value)) {
    const hidden = HIDDEN.test(char);
    if (hidden || (nonAscii && NON_ASCII.test(char))) {
      if (plain !== '') nodes.push(plain);
      plain = '';
      nodes.push(
        hidden
          ? h('span', { class: 'esc', title: `U+${codePoint(char)}, an invisible or control character` }, escapeOf(char, json))
          : h('span', { class: 'non-ascii', title: `U+${codePoint(char)}` }, char),
      );
    } else {
      plain += char;
    }
  }
  if (plain !== '') nodes.push(plain);
  return nodes;
}

/** Shortened to `max` characters (its start and end), for a sentence. */
function shorten(value, max) {
  const chars = [...value];
  if (max === undefined || chars.length <= max) return { head: value, tail: null };
  const tailLength = Math.floor(max / 4);
  return { head: chars.slice(0, max - tailLength - 1).join(''), tail: chars.slice(-tailLength).join('') };
}

/**
 * An outside string, isolated from the text around it (<bdi>, or a <code> with `unicode-bidi:
 * isolate`), its hidden characters written out; `max` shortens it (the whole is in its tooltip).
 */
function outside(value, { tag = 'bdi', cls, max, kid = false, attributes = {} } = {}) {
  const text = String(value);
  const { head, tail } = shorten(text, max);
  const children = tail === null ? visible(text, { nonAscii: kid }) : [visible(head, { nonAscii: kid }), h('span', { class: 'elided' }, '…'), visible(tail, { nonAscii: kid })];
  return h(tag, { class: ['outside', cls].filter(Boolean).join(' '), dir: 'ltr', title: tail === null ? undefined : text.replace(HIDDEN_ALL, (c) => escapeOf(c)), ...attributes }, children);
}

/** “value”, isolated. */
function quoted(value, options) {
  return ['“', outside(value, options), '”'];
}

const VERDICT_ICONS = { valid: '✓', refused: '✕', 'cannot-check': '!', checking: '…', idle: '' };

/** `summary` and `explanation`: the page's own text, strings or nodes (outside strings isolated). */
function showVerdict(kind, { title, summary, code, explanation, message, notes = [] }) {
  ui.verdict.dataset.verdict = kind;
  ui.verdict.className = `verdict verdict--${kind}`;
  const parts = [
    h('p', { class: 'verdict-title' }, VERDICT_ICONS[kind] ? h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, VERDICT_ICONS[kind]) : null, h('strong', {}, title)),
  ];
  if (summary) parts.push(h('p', { class: 'verdict-summary' }, summary));
  if (code) parts.push(h('p', { class: 'verdict-code' }, h('span', { class: 'label' }, 'Code '), h('code', {}, code)));
  if (explanation && explanation.length !== 0) parts.push(h('p', { class: 'verdict-explain' }, explanation));
  // The package's message quotes what it refused (a kid, a URI, a claim): shown isolated, as such.
  if (message && message !== explanation) parts.push(h('p', { class: 'verdict-message' }, h('span', { class: 'label' }, 'The error says: '), outside(message)));
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
            outside(f.message, { tag: 'span', cls: 'finding-message' }),
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
            t.date ? h('span', { class: 'time-date' }, formatDate(t.date)) : h('span', { class: 'time-date' }, 'value ', outside(JSON.stringify(t.value) ?? String(t.value), { tag: 'code' })),
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

/**
 * JSON, indented by two, as spans (keys, strings, numbers, literals) for the stylesheet to colour;
 * each key and string isolated, the characters JSON.stringify leaves raw and one cannot see
 * written as JSON escapes (still the same JSON).
 */
function jsonView(value) {
  const fragment = document.createDocumentFragment();
  const text = (s) => fragment.append(document.createTextNode(s));
  const span = (cls, s) => fragment.append(h('span', { class: cls }, s));
  const string = (cls, s) => fragment.append(h('span', { class: `${cls} outside`, dir: 'ltr' }, visible(JSON.stringify(s), { json: true })));
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
        string('j-key', key);
        text(': ');
        walk(item, depth + 1);
        text(i < entries.length - 1 ? ',\n' : '\n');
      });
      return text(`${'  '.repeat(depth)}}`);
    }
    if (typeof v === 'string') return string('j-str', v);
    if (typeof v === 'number') return span('j-num', JSON.stringify(v));
    return span('j-lit', String(v));
  };
  walk(value, 0);
  return fragment;
}

const uriCode = (uri, attributes) => outside(uri, { tag: 'code', cls: 'uri', attributes });

function renderKeySource(source, { loading = false, loaded, error } = {}) {
  const lines = [];
  if (source === null) {
    lines.push(h('p', {}, 'No key set.'));
  } else if (loaded) {
    lines.push(h('p', {}, 'Key set ', uriCode(loaded.jwksUri, { 'data-field': 'jwks-uri' })));
    if (source.issuer !== undefined) lines.push(h('p', { class: 'hint' }, 'found by OpenID discovery from ', uriCode(loaded.issuer ?? source.issuer)));
  } else if (source.jwksUri !== undefined) {
    lines.push(h('p', {}, loading ? 'Loading ' : 'Key set ', uriCode(source.jwksUri)));
  } else {
    lines.push(h('p', {}, loading ? 'Discovering the key set of ' : 'Issuer ', uriCode(source.issuer)));
  }
  if (error) {
    lines.push(h('p', { class: 'key-error' }, 'Not loaded: ', h('code', {}, String(error.code ?? 'error'))));
    if (typeof error.uri === 'string' && error.uri !== '' && error.uri !== source?.jwksUri) lines.push(h('p', { class: 'hint' }, 'failed at ', uriCode(error.uri, { 'data-field': 'failed-uri' })));
  }
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
        ? ['No key of the set has kid ', quoted(header.kid, { max: PROSE_MAX, kid: true }), '. A verifier fetches the set once more for an unknown kid (key rotation), then refuses the token.']
        : ['The token has no kid, and no single key of the set can verify ', typeof header.alg === 'string' ? outside(header.alg) : 'its alg', '.'];
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
  const kid = typeof entry.kid === 'string' ? entry.kid : null;
  return h(
    'article',
    { class: `key${matched ? ' key--match' : ''}${entry.ignored ? ' key--ignored' : ''}`, 'data-kid': entry.kid ?? '', 'data-index': entry.index },
    h(
      'p',
      { class: 'key-head' },
      kid === null ? h('code', { class: 'kid' }, '(no kid)') : outside(kid, { tag: 'code', cls: 'kid', kid: true }),
      matched ? h('span', { class: 'badge badge--match' }, 'selected by the token') : null,
      entry.ignored ? h('span', { class: 'badge badge--ignored' }, 'ignored') : null,
      h('span', { class: 'key-index' }, `entry ${entry.index}`),
    ),
    kid !== null && NON_ASCII.test(kid) ? h('p', { class: 'key-note' }, 'contains non-ASCII characters') : null,
    h(
      'dl',
      { class: 'key-facts' },
      facts.map(([name, value]) =>
        h('div', { 'data-field': name }, h('dt', {}, name), value == null ? h('dd', { class: 'absent' }, 'absent') : h('dd', {}, outside(String(value)))),
      ),
    ),
    entry.ignored ? outside(entry.ignored, { tag: 'p', cls: 'key-ignored' }) : null,
  );
}
