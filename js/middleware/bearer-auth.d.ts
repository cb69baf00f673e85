import type { JwksCache, VerifyOptions } from '../index.js';

/** The options of jwtAuth: those of `verify`, and the middleware's own. */
export interface JwtAuthOptions extends Partial<VerifyOptions> {
  /** Refuse requests without a token (401). Default true; false lets them through without `auth`. */
  credentialsRequired?: boolean;
  /** Where the token is. Default: the `Authorization: Bearer <token>` header. */
  getToken?: (request: any) => string | undefined | null | Promise<string | undefined | null>;
  /** The cache to verify with. Default: one shared by every jwtAuth given none. */
  cache?: JwksCache;
}

/** What a verified request carries. */
export interface JwtAuth {
  payload: Record<string, unknown>;
  protectedHeader: Record<string, unknown>;
}
