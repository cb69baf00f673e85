// `verify`: a JWT checked against the keys of a cached set. The core reads the token and decides
// every rule (allow-list, header, which key, claims: src/token.rs, jws_header.rs,
// key_usability.rs, claims.rs); this module asks it, imports the selected key into the host's
// crypto once, and has the host check the signature (signatures.js).
//
// Order: the token is read and its algorithm checked against the allow-list before any key is
// looked up (so a refused algorithm never causes a fetch); the signature is checked before the
// claims (so no claim of a forged token is ever reported on).
//
// Hot path: a token that verified before is answered from the verified-token cache while the set
// that verified it is still the current, fresh one; its claims are checked again on every call
// with that call's options, and it is never used past its `exp`.

import { noMatchingKey, readJws, signatureInvalid, tokenRefused } from './wasm/jwks_cache.js';
import { JwksArgumentError, inCore, toPublicError } from './errors.js';
import { signatures } from './signatures.js';
import { ALGORITHMS } from './key-views.js';

/** The reasons no key is selected, in the core's order (`NoKey::ALL` in key_usability.rs). */
const KID_ABSENT = 0;
const KID_CANNOT_VERIFY = 1;
const NOT_IMPORTABLE = 2;
/** The longest token the core reads (MAX_TOKEN_BYTES in src/token.rs); a token is ASCII. */
const MAX_TOKEN_CHARS = 16 * 1024;

/**
 * @param {{ complete(given: object): object | Promise<object>, setFor(uri: string, kid?: string): object | Promise<object>, isCurrent(uri: string, view: object): boolean,
 *   now(): number, useCore(operation: (core: object) => any, core?: object): any, forgetToken(core: object, id: number): void,
 *   tokens: import('./verified-tokens.js').VerifiedTokens }} source what the cache lends
 * @returns {Promise<{ payload: object, protectedHeader: object, key: object }>} never a synchronous throw
 */
export function verify(source, token, options) {
  try {
    const answer = verifyNow(source, token, options);
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The verification, synchronous as long as nothing needs waiting for (a warm set, node:crypto):
 * the answer, or a promise of it when something did.
 */
function verifyNow(source, token, options) {
  // The cache's own verify options fill what the call leaves out; an issuer without a jwksUri is
  // looked up by OpenID discovery (at once when known: a warm verify does not wait).
  return verifyGiven(source, token, source.complete(readOptions(options)));
}

function verifyGiven(source, token, given) {
  const now = given.currentDate === undefined ? source.now() : dateMillis(given.currentDate);

  const remembered = typeof token === 'string' ? source.tokens.get(token) : undefined;
  if (remembered !== undefined) {
    if (remembered.uri === given.jwksUri && now < remembered.expiresAt && source.isCurrent(given.jwksUri, remembered.view)) {
      checkClaimsOf(source, remembered.core, remembered.id, now, given);
      return result(remembered.header, remembered.payload, remembered.jwk);
    }
    source.tokens.forget(token);
  }

  const [core, parts] = source.useCore((core) => [core, readSigned(core.readToken.bind(core), token, given.algorithms)]);
  // Forgotten here unless the token is remembered, which then owns it.
  const id = parts[5];
  const accept = ({ header, payload, jwk, view }) => {
    checkClaimsOf(source, core, id, now, given);
    const verified = result(header, payload, jwk);
    source.tokens.remember(token, { uri: given.jwksUri, view, jwk, header, payload, core, id, expiresAt: expiryOf(verified.payload) });
    return verified;
  };
  let answer;
  try {
    // A token of an issuer the caller does not accept costs no key lookup, and no fetch.
    if (given.issuer !== undefined) source.useCore((core) => core.checkIssuer(id, given.issuer), core);
    answer = andThen(checkSignature(source, token, given, parts), accept);
  } catch (error) {
    source.forgetToken(core, id);
    throw error;
  }
  if (!(answer instanceof Promise)) return answer;
  return answer.catch((error) => {
    source.forgetToken(core, id);
    throw error;
  });
}

/**
 * `verifyJws`: a JWS whose payload is any bytes, checked like a token's signature, without claims
 * (nothing to check them in) and without the verified-token cache.
 * @returns {Promise<{ payload: Uint8Array, protectedHeader: object, key: object }>}
 */
export async function verifyJws(source, jws, options) {
  const given = readOptions(options);
  const parts = inCore(() => readSigned(readJws, jws, given.algorithms));
  const { header, payload, jwk } = await checkSignature(source, jws, given, parts);
  return { payload, protectedHeader: JSON.parse(header), key: jwk };
}

/**
 * `cache.joseKeyResolver(jwksUri)`'s answer for one protected header: the host key (a node:crypto
 * KeyObject, or a CryptoKey) that the header's kid (or, without one, its alg) selects from the set,
 * by the rules `verify` uses, imported once per set. jose's `jwtVerify` then checks the signature
 * and the claims itself.
 */
export function joseKey(source, jwksUri, header) {
  let alg, kid;
  try {
    ({ alg, kid } = header ?? {});
  } catch {
    alg = undefined;
  }
  const index = ALGORITHMS.indexOf(alg);
  if (index < 0) throw toPublicError({ code: 'ERR_JWS_ALG_NOT_ALLOWED', message: `JWS algorithm not allowed: ${JSON.stringify(String(alg)).slice(0, 40)}` });
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw toPublicError({ code: 'ERR_JWT_MALFORMED', message: 'JWT malformed: kid is not a non-empty string' });
  return andThen(source.setFor(jwksUri, kid, undefined), (view) => {
    const slot = select(view, kid, index);
    return andThen(hostKey(view, slot, index), (key) => {
      if (key === null) throw toPublicError(inCore(() => noMatchingKey(kid, index, NOT_IMPORTABLE)));
      return key;
    });
  });
}

/** The core's reading of a token (`read`: a core's readToken, or readJws); only a string of a size a token can have is copied in. */
function readSigned(read, token, algorithms) {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw tokenRefused(token);
  return read(token, algorithms);
}

/** Selects the key of a token the core read (readToken or readJws) and checks its signature. */
function checkSignature(source, token, given, parts) {
  // The JWKS URI, found by discovery now if it was not known (see the cache's complete()).
  const jwksUri = given.jwksUri ?? (given.discoverFor !== undefined ? source.discover(given.discoverFor) : undefined);
  return andThen(jwksUri, (uri) => {
    given.jwksUri = uri;
    return checkKey(source, token, given, parts);
  });
}

function checkKey(source, token, given, parts) {
  const [alg, kid, header, payload, signedLength] = parts;
  return andThen(source.setFor(given.jwksUri, kid, given.waitUntil), (view) => {
    const slot = select(view, kid, alg);
    return andThen(hostKey(view, slot, alg), (key) => {
      if (key === null) throw toPublicError(inCore(() => noMatchingKey(kid, alg, NOT_IMPORTABLE)));
      return andThen(signatureHolds(key, alg, token, signedLength, source.offloadSignatures), (valid) => {
        if (!valid) throw toPublicError(inCore(() => signatureInvalid(alg)));
        return { header, payload, jwk: view.slots[slot], view };
      });
    });
  });
}

/** Whether the host's crypto finds the signature good (a refusal to check is a bad signature). */
function signatureHolds(key, alg, token, signedLength, offload = false) {
  const engine = signatures();
  try {
    const signature = engine.signatureBytes(token.slice(signedLength + 1));
    const check = offload && engine.verifyOffThread !== undefined ? engine.verifyOffThread : engine.verify;
    const valid = check.call(engine, key, alg, token.slice(0, signedLength), signature);
    return valid instanceof Promise ? valid.then((answer) => answer === true, () => false) : valid === true;
  } catch {
    return false;
  }
}

/** `next(value)`, at once when `value` is not a promise: the warm path stays synchronous. */
function andThen(value, next) {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** The options `verify` reads; any other name is refused, so that a misspelt check is never skipped. */
const OPTION_NAMES = new Set([
  'jwksUri',
  'issuer',
  'audience',
  'algorithms',
  'clockToleranceSec',
  'maxTokenAgeSec',
  'typ',
  'requiredClaims',
  'requireExp',
  'currentDate',
  'waitUntil',
]);
/** The most entries the core reads of a list option (MAX_LIST_ENTRIES in src/verify_options.rs). */
const MAX_LIST_ENTRIES = 100;

/**
 * The options of one call, read once (a getter or a Proxy gets no second chance to answer
 * differently), with every list copied into a plain array: the core then reads nothing that can
 * run the caller's code (code that threw inside wasm would leave its state broken). The core
 * checks the values.
 */
export function readOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: options must be an object with jwksUri');
  }
  try {
    for (const name of Object.keys(options)) {
      if (!OPTION_NAMES.has(name)) {
        throw new JwksArgumentError('ERR_INVALID_OPTION', `Invalid option: ${JSON.stringify(name).slice(0, 100)} is not an option of verify`);
      }
    }
    const { jwksUri, issuer, audience, algorithms, clockToleranceSec, maxTokenAgeSec, typ, requiredClaims, requireExp, currentDate, waitUntil } =
      options;
    if (waitUntil !== undefined && typeof waitUntil !== 'function') {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: waitUntil must be a function');
    }
    return {
      jwksUri,
      issuer: plainList(issuer),
      audience: plainList(audience),
      algorithms: plainList(algorithms),
      clockToleranceSec,
      maxTokenAgeSec,
      typ,
      requiredClaims: plainList(requiredClaims),
      requireExp,
      currentDate,
      waitUntil,
    };
  } catch (cause) {
    if (cause instanceof JwksArgumentError) throw cause;
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
  }
}

/**
 * A list option as the core may read it: a primitive as it is, an array as a plain copy of its
 * first entries (one more than the core accepts, so that it can say there are too many), any
 * other object as a plain one (the core refuses it by its type).
 */
export function plainList(value) {
  if (value === null || typeof value !== 'object') return value;
  if (!Array.isArray(value)) return {};
  return Array.from({ length: Math.min(value.length, MAX_LIST_ENTRIES + 1) }, (_, at) => value[at]);
}

/** The time of a `currentDate` option: a valid Date (of any realm) from 1970 on. */
function dateMillis(date) {
  let time = NaN;
  try {
    time = Date.prototype.getTime.call(date);
  } catch {
    // Not a Date.
  }
  if (!(time >= 0)) throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: currentDate must be a valid Date, from 1970 on');
  return time;
}

/** The core's checks of one call's options on a token it read (as `id`) whose signature verified. */
function checkClaimsOf(source, core, id, now, given) {
  source.useCore(
    (core) =>
      core.checkToken(
        id,
        now,
        given.algorithms,
        given.issuer,
        given.audience,
        given.clockToleranceSec,
        given.maxTokenAgeSec,
        given.typ,
        given.requiredClaims,
        given.requireExp,
      ),
    core,
  );
}

/** The key the core decided the token selects, by the tables it left in the view. */
function select(view, kid, alg) {
  if (kid === undefined) {
    const slot = view.kidless[alg];
    if (slot < 0) throw toPublicError(inCore(() => noMatchingKey(undefined, alg, -1 - slot)));
    return slot;
  }
  const ambiguity = view.ambiguous.get(kid);
  if (ambiguity !== undefined) throw toPublicError(ambiguity);
  const slot = view.slotOfKid.get(kid);
  if (slot === undefined) throw toPublicError(inCore(() => noMatchingKey(kid, alg, KID_ABSENT)));
  if (((view.verifies[slot] >> alg) & 1) === 0) throw toPublicError(inCore(() => noMatchingKey(kid, alg, KID_CANNOT_VERIFY)));
  return slot;
}

/**
 * The host's key for this key and algorithm, imported on first use and kept with the view; null
 * when the host refuses the key. Callers that arrive while an import runs share it.
 */
function hostKey(view, slot, alg) {
  const id = slot * 16 + alg;
  const known = view.hostKeys.get(id);
  if (known !== undefined) return known;
  let imported;
  try {
    imported = signatures().importKey(view.slots[slot], alg);
  } catch {
    imported = null;
  }
  if (imported instanceof Promise) {
    // A refusal of an asynchronous import may be passing (a busy runtime): the next caller tries
    // again. Callers that came meanwhile share the one attempt. A synchronous refusal
    // (node:crypto's) is about the key itself, and is kept with the set.
    imported = imported.then(
      (key) => (view.hostKeys.set(id, key), key),
      () => (view.hostKeys.delete(id), null),
    );
  }
  view.hostKeys.set(id, imported);
  return imported;
}

/** The answer, with objects of the caller's own: nothing shared but the frozen JWK. */
function result(header, payload, jwk) {
  return { payload: JSON.parse(payload), protectedHeader: JSON.parse(header), key: jwk };
}

/** When a remembered token stops being used: its `exp` (the core checked it is a NumericDate). */
function expiryOf(payload) {
  return typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
}
