// The inspector page's rendering: the verdict banner, the token panel and the key panel. Every
// text goes in through textContent; strings from outside (kids, URIs, claims, members, error
// messages that quote them) are isolated from the text around them (<bdi>, or
// `unicode-bidi: isolate`), so that a direction control in one cannot reorder the page's own
// sentence, and their invisible and direction-control characters are written out (`\u202E`), so
// that two kids that differ only by one do not look the same.

/** Kids longer than this (in characters) are shortened in sentences; the key card shows them whole. */
export const PROSE_MAX = 48;

const $ = (id) => document.getElementById(id);
export const ui = {
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


export function resetResults() {
  ui.verdict.replaceChildren();
  ui.verdict.dataset.verdict = 'idle';
  ui.verdict.className = 'verdict';
  clearDetails();
}

/** Hides the details and empties them: nothing of a previous token stays in the page. */
export function clearDetails() {
  ui.details.hidden = true;
  for (const element of [ui.findings, ui.times, ui.headerJson, ui.payloadJson, ui.keySource, ui.matchedKey, ui.otherKeys]) element.replaceChildren();
}


/** An element with attributes (class, data-*, others) and children (nodes or strings). */
export function h(tag, attributes = {}, ...children) {
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
export function outside(value, { tag = 'bdi', cls, max, kid = false, attributes = {} } = {}) {
  const text = String(value);
  const { head, tail } = shorten(text, max);
  const children = tail === null ? visible(text, { nonAscii: kid }) : [visible(head, { nonAscii: kid }), h('span', { class: 'elided' }, '…'), visible(tail, { nonAscii: kid })];
  return h(tag, { class: ['outside', cls].filter(Boolean).join(' '), dir: 'ltr', title: tail === null ? undefined : text.replace(HIDDEN_ALL, (c) => escapeOf(c)), ...attributes }, children);
}

/** “value”, isolated. */
export function quoted(value, options) {
  return ['“', outside(value, options), '”'];
}

const VERDICT_ICONS = { valid: '✓', refused: '✕', 'cannot-check': '!', checking: '…', idle: '' };

/** `summary` and `explanation`: the page's own text, strings or nodes (outside strings isolated). */
export function showVerdict(kind, { title, summary, code, explanation, message, notes = [] }) {
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

export function renderToken({ header, payload, times, findings }) {
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

export function renderKeySource(source, { loading = false, loaded, error } = {}) {
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

export function renderNoKeys(text) {
  ui.matchedBlock.hidden = false;
  ui.matchedKey.replaceChildren(h('p', { class: 'hint' }, text));
  ui.othersBlock.hidden = true;
  ui.otherKeys.replaceChildren();
}

/** The selected key and the rest of the set; returns the selected entry or null. */
export function renderKeys(api, keySet, header) {
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
    kid === null && !entry.ignored ? h('p', { class: 'key-note' }, 'no kid: only a token without a kid selects it, when it is the one key of the set for the token’s alg') : null,
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
