/**
 * The HTTP transport's settings: authentication (token file, OAuth, none), allowed hosts and
 * origins, limits, and the start-up refusals (no authentication or no allowed hosts beyond
 * loopback). Problems are collected like the rest of the configuration.
 */
import type { Env } from './schema.js';

export type HttpAuth =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'token';
      readonly tokens: ReadonlyArray<{ readonly principal: string; readonly token: string }>;
    }
  | {
      readonly mode: 'oauth';
      readonly issuer: string;
      readonly jwksUrl: string;
      /** Undefined: this server's own `${publicUrl}/mcp`. */
      readonly audience: string | undefined;
      readonly scopes: readonly string[];
      readonly writeScope: string | undefined;
      /** Only RFC 9068 access tokens (`typ: at+jwt`). */
      readonly requireAtJwt: boolean;
    };

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  readonly auth: HttpAuth;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  /** Base URL clients use (the MCP endpoint is `${publicUrl}/mcp`); undefined: http://host:port as listening. */
  readonly publicUrl: string | undefined;
  readonly maxSessions: number;
  readonly maxSessionsPerPrincipal: number;
  readonly sessionIdleMs: number;
  /** Connections before authentication: bounded per address and in total, headers in time. */
  readonly connections: {
    readonly max: number;
    readonly maxUnauthenticated: number;
    readonly maxUnauthenticatedPerAddress: number;
    readonly headersTimeoutMs: number;
  };
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
  readonly metricsPublic: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const TOKEN_LINE = /^([A-Za-z0-9_.-]{1,64})=(\S{32,})$/;

export function httpConfig(
  env: Env,
  problems: string[],
  secrets: string[],
  read: (variable: string, path: string | undefined) => Buffer | undefined,
): HttpConfig {
  const http = env.MCP_TRANSPORT === 'http';
  const loopback = LOOPBACK.has(env.MCP_HTTP_HOST);
  let auth: HttpAuth = { mode: 'none' };
  if (env.MCP_AUTH === 'token') {
    const tokens: Array<{ principal: string; token: string }> = [];
    if (http && env.MCP_AUTH_TOKEN_FILE === undefined) {
      problems.push('MCP_AUTH_TOKEN_FILE: is required with MCP_AUTH=token (or choose MCP_AUTH=oauth)');
    }
    const data = http ? read('MCP_AUTH_TOKEN_FILE', env.MCP_AUTH_TOKEN_FILE) : undefined;
    if (data !== undefined) {
      const lines = data
        .toString('utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l.length > 0 && !l.startsWith('#'));
      lines.forEach((line, i) => {
        const named = TOKEN_LINE.exec(line);
        const token = named?.[2] ?? line;
        secrets.push(token);
        if (token.length < 32 || /\s/.test(token)) {
          problems.push(
            `MCP_AUTH_TOKEN_FILE: token on line ${i + 1} is shorter than 32 characters or has spaces`,
          );
          return;
        }
        tokens.push({ principal: named?.[1] ?? `token-${i + 1}`, token });
      });
      if (lines.length === 0)
        problems.push(`MCP_AUTH_TOKEN_FILE: ${env.MCP_AUTH_TOKEN_FILE ?? ''} holds no token`);
    }
    auth = { mode: 'token', tokens };
  } else if (env.MCP_AUTH === 'oauth') {
    if (env.MCP_OAUTH_ISSUER === undefined)
      problems.push('MCP_OAUTH_ISSUER: is required with MCP_AUTH=oauth');
    const issuer = env.MCP_OAUTH_ISSUER ?? '';
    const jwksUrl = env.MCP_OAUTH_JWKS_URL ?? `${issuer}/.well-known/jwks.json`;
    for (const [name, value] of [
      ['MCP_OAUTH_ISSUER', issuer],
      ['MCP_OAUTH_JWKS_URL', jwksUrl],
    ] as const) {
      if (value.startsWith('http://') && !LOOPBACK.has(new URL(value).hostname)) {
        problems.push(`${name}: must use https:// (plain http is accepted for loopback only)`);
      }
    }
    auth = {
      mode: 'oauth',
      issuer,
      jwksUrl,
      audience: env.MCP_OAUTH_AUDIENCE,
      scopes: env.MCP_OAUTH_SCOPES,
      writeScope: env.MCP_OAUTH_WRITE_SCOPE,
      requireAtJwt: env.MCP_OAUTH_REQUIRE_AT_JWT,
    };
  } else if (http && !loopback) {
    problems.push(
      `MCP_AUTH: none is refused when listening on ${env.MCP_HTTP_HOST}, which is not loopback; use MCP_AUTH=token or oauth`,
    );
  }
  if (http && !loopback && env.MCP_ALLOWED_HOSTS === undefined) {
    problems.push(
      `MCP_ALLOWED_HOSTS: is required when listening on ${env.MCP_HTTP_HOST}; list the host names clients use (DNS-rebinding protection)`,
    );
  }
  if (http && env.MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL > env.MCP_HTTP_MAX_SESSIONS) {
    problems.push(
      `MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL: ${env.MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL} is more than MCP_HTTP_MAX_SESSIONS (${env.MCP_HTTP_MAX_SESSIONS})`,
    );
  }
  if (http && env.MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS >= env.MCP_HTTP_MAX_CONNECTIONS) {
    problems.push(
      `MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS: must be below MCP_HTTP_MAX_CONNECTIONS (${env.MCP_HTTP_MAX_CONNECTIONS}), so that room is kept for authenticated clients`,
    );
  }
  return {
    host: env.MCP_HTTP_HOST,
    port: env.MCP_HTTP_PORT,
    auth,
    allowedHosts: env.MCP_ALLOWED_HOSTS ?? ['localhost', '127.0.0.1', '[::1]'],
    allowedOrigins: env.MCP_ALLOWED_ORIGINS,
    publicUrl: env.MCP_PUBLIC_URL,
    maxSessions: env.MCP_HTTP_MAX_SESSIONS,
    maxSessionsPerPrincipal: env.MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL,
    connections: {
      max: env.MCP_HTTP_MAX_CONNECTIONS,
      maxUnauthenticated: env.MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS,
      maxUnauthenticatedPerAddress: env.MCP_HTTP_MAX_UNAUTHENTICATED_PER_ADDRESS,
      headersTimeoutMs: env.MCP_HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
    },
    sessionIdleMs: env.MCP_HTTP_SESSION_IDLE_SECONDS * 1000,
    maxBodyBytes: env.MCP_HTTP_MAX_BODY_BYTES,
    rateLimitPerMinute: env.MCP_HTTP_RATE_LIMIT_PER_MINUTE,
    metricsPublic: env.MCP_METRICS_PUBLIC,
  };
}
