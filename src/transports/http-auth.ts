/**
 * Who is calling: bearer tokens from a file (compared in constant time) or OAuth 2.1 JWT
 * access tokens (signature by the issuer's JWKS, issuer, audience = this server, expiry, token
 * type, a subject, scopes). Either way the request ends up with `req.auth`, whose `clientId` is the principal
 * that rate limits, session binding and logs use. The client's token is never passed on.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createRemoteJWKSet, jwtVerify, errors as joseErrors } from 'jose';
import type { HttpAuth } from '../config/load.js';

export const REALM = 'mqtt-mcp-bridge';

export interface Authentication {
  /** Middleware that answers 401/403 itself, or sets req.auth and calls next(). */
  readonly middleware: RequestHandler;
  /** RFC 9728 metadata, in OAuth mode. */
  readonly resourceMetadata: Record<string, unknown> | undefined;
  readonly resourceMetadataPath: string | undefined;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function tokenAuth(tokens: ReadonlyArray<{ principal: string; token: string }>): RequestHandler {
  const known = tokens.map((t) => ({ principal: t.principal, digest: sha256(t.token) }));
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}"`);
      res.status(401).json({ error: 'invalid_request', error_description: 'a bearer token is required' });
      return;
    }
    const digest = sha256(match[1] as string);
    let principal: string | undefined;
    // Compare with every token, in constant time each, without stopping at a match.
    for (const k of known)
      if (timingSafeEqual(digest, k.digest) && principal === undefined) principal = k.principal;
    if (principal === undefined) {
      res.set(
        'WWW-Authenticate',
        `Bearer realm="${REALM}", error="invalid_token", error_description="the token is not valid"`,
      );
      res.status(401).json({ error: 'invalid_token', error_description: 'the token is not valid' });
      return;
    }
    const auth: AuthInfo = { token: '', clientId: principal, scopes: [] };
    req.auth = auth;
    next();
  };
}

function oauthAuth(
  auth: Extract<HttpAuth, { mode: 'oauth' }>,
  audience: string,
  resourceMetadataUrl: string,
): RequestHandler {
  const jwks = createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return requireBearerAuth({
    requiredScopes: [...auth.scopes],
    resourceMetadataUrl,
    verifier: {
      verifyAccessToken: async (token: string): Promise<AuthInfo> => {
        let verified: Awaited<ReturnType<typeof jwtVerify>>;
        try {
          verified = await jwtVerify(token, jwks, { issuer: auth.issuer, audience, requiredClaims: ['exp'] });
        } catch (error) {
          throw new InvalidTokenError(describeJoseError(error));
        }
        const { payload, protectedHeader } = verified;
        if (!accessTokenType(protectedHeader.typ, auth.requireAtJwt)) {
          throw new InvalidTokenError(
            auth.requireAtJwt
              ? 'the token is not an RFC 9068 access token (typ must be at+jwt)'
              : 'the token is not an access token (typ)',
          );
        }
        const principal = principalOf(payload);
        if (principal === undefined)
          throw new InvalidTokenError('the token names no subject (sub or client_id)');
        const scope = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
        const scp = Array.isArray(payload.scp)
          ? payload.scp.filter((s): s is string => typeof s === 'string')
          : [];
        return {
          token,
          clientId: principal,
          scopes: [...new Set([...scope, ...scp].filter((s) => s.length > 0))],
          expiresAt: payload.exp as number,
        };
      },
    },
  });
}

/**
 * The JWT header `typ` (RFC 7515 4.1.9: a media type, case-insensitive, `application/` may be
 * left out). RFC 9068 section 4 asks a resource server to accept only `at+jwt`; many issuers put
 * the generic `JWT` or nothing on their access tokens, so those pass unless `requireAtJwt`. Any
 * other type (an ID token's, a logout or event token's) names another kind of JWT: refused.
 */
export function accessTokenType(typ: unknown, requireAtJwt: boolean): boolean {
  if (typ === undefined) return !requireAtJwt;
  if (typeof typ !== 'string') return false;
  const type = typ.toLowerCase().replace(/^application\//, '');
  if (type === 'at+jwt') return true;
  return !requireAtJwt && type === 'jwt';
}

/**
 * The principal a token speaks for, its claim kind kept apart: `oauth:sub:<sub>` (the resource
 * owner, or the client itself in a client-credentials grant) or, without `sub`,
 * `oauth:client:<client_id>`. A token with neither is refused (undefined).
 */
export function principalOf(payload: { sub?: unknown; client_id?: unknown }): string | undefined {
  if (typeof payload.sub === 'string' && payload.sub.length > 0) return `oauth:sub:${payload.sub}`;
  if (typeof payload.client_id === 'string' && payload.client_id.length > 0)
    return `oauth:client:${payload.client_id}`;
  return undefined;
}

/** Why a JWT was refused, in words that help the client and reveal nothing of the token. */
function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the token was not issued for this server (audience)';
    if (error.claim === 'iss') return 'the token was issued by another authorization server';
    return `the token claim ${error.claim} is not valid`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token was signed with an unknown key';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JOSEError)
    return 'the token cannot be verified';
  return 'the token is not valid';
}

export function createAuthentication(auth: HttpAuth, publicUrl: string): Authentication {
  switch (auth.mode) {
    case 'none':
      return {
        middleware: (req, _res, next) => {
          req.auth = { token: '', clientId: 'anonymous', scopes: [] };
          next();
        },
        resourceMetadata: undefined,
        resourceMetadataPath: undefined,
      };
    case 'token':
      return {
        middleware: tokenAuth(auth.tokens),
        resourceMetadata: undefined,
        resourceMetadataPath: undefined,
      };
    case 'oauth': {
      const path = '/.well-known/oauth-protected-resource/mcp';
      return {
        middleware: oauthAuth(auth, auth.audience ?? `${publicUrl}/mcp`, `${publicUrl}${path}`),
        resourceMetadataPath: path,
        resourceMetadata: {
          resource: `${publicUrl}/mcp`,
          authorization_servers: [auth.issuer],
          scopes_supported: [
            ...new Set([...auth.scopes, ...(auth.writeScope !== undefined ? [auth.writeScope] : [])]),
          ],
          bearer_methods_supported: ['header'],
          resource_name: 'mqtt-mcp-bridge',
        },
      };
    }
  }
}
