// `app.use(jwtAuth(options))` for Express (4 and 5): verifies the request's Bearer token and puts
// `{ payload, protectedHeader }` at `req.auth`; see bearer-auth.js for the answers to failures.

import { authenticate, readAuthOptions } from './bearer-auth.js';

export function jwtAuth(options) {
  const settings = readAuthOptions(options);
  return (req, res, next) => {
    authenticate(settings, req, req.headers?.authorization).then((result) => {
      if (result.auth !== undefined) req.auth = result.auth;
      if (result.failure === undefined) return next();
      const { status, headers, body } = result.failure;
      res.status(status).set(headers).json(body);
    }, next);
  };
}
