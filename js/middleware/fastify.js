// `await app.register(jwtAuth, options)` for Fastify 5: an `onRequest` hook that verifies the
// request's Bearer token and puts `{ payload, protectedHeader }` at `request.auth`, guarding the
// routes of the instance it is registered on (its encapsulation is skipped, as fastify-plugin
// does); see bearer-auth.js for the answers to failures.

import { authenticate, readAuthOptions } from './bearer-auth.js';

export async function jwtAuth(fastify, options) {
  const settings = readAuthOptions(withoutFastifyOptions(options));
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', async (request, reply) => {
    const result = await authenticate(settings, request, request.headers.authorization);
    if (result.auth !== undefined) request.auth = result.auth;
    if (result.failure === undefined) return;
    const { status, headers, body } = result.failure;
    return reply.code(status).headers(headers).send(body);
  });
}

// What fastify-plugin sets: the hook applies to the instance that registered the plugin.
jwtAuth[Symbol.for('skip-override')] = true;
jwtAuth[Symbol.for('fastify.display-name')] = 'jwks-cache';

/** Fastify passes its own registration options (prefix, logLevel...) along with the plugin's. */
function withoutFastifyOptions(options = {}) {
  const { prefix, logLevel, logSerializers, ...own } = options;
  return own;
}
