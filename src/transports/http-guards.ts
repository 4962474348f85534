/**
 * The guards in front of /mcp: Host and Origin validation (DNS-rebinding protection; SDK 1.32
 * checks Host only), CORS for explicitly allowed origins (never a wildcard), a rate limit per
 * authenticated principal, and a JSON error handler that never logs or echoes request bodies.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logging/logger.js';
import { RateLimiter } from '../policy/rate-limit.js';

export type RefusalCounter = (reason: string) => void;

function jsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** Host header must name one of the allowed hosts (port ignored). */
export function hostGuard(allowed: readonly string[], refused: RefusalCounter): RequestHandler {
  const set = new Set(allowed.map((h) => h.toLowerCase()));
  return (req, res, next) => {
    let hostname: string | undefined;
    try {
      hostname = req.headers.host === undefined ? undefined : new URL(`http://${req.headers.host}`).hostname;
    } catch {
      hostname = undefined;
    }
    if (hostname === undefined || !set.has(hostname.toLowerCase())) {
      refused('host');
      jsonRpcError(res, 403, -32000, 'Forbidden: Host header not allowed');
      return;
    }
    next();
  };
}

const CORS_HEADERS = 'Content-Type, Authorization, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID';

/**
 * A present Origin must be allowed (403 otherwise); requests without Origin (non-browser
 * clients) pass. Allowed are the configured origins and the server's own origins (an allowed
 * host name at the port the server listens on: a page this server itself could have served).
 * Allowed origins get CORS headers naming exactly them.
 */
export function originGuard(
  allowed: readonly string[],
  own: { hosts: readonly string[]; port: number },
  refused: RefusalCounter,
): RequestHandler {
  const set = new Set(allowed);
  for (const host of own.hosts)
    for (const scheme of ['http', 'https']) set.add(`${scheme}://${host}:${own.port}`);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) {
      next();
      return;
    }
    if (!set.has(origin)) {
      refused('origin');
      jsonRpcError(res, 403, -32000, 'Forbidden: Origin not allowed');
      return;
    }
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Vary', 'Origin');
    res.set('Access-Control-Expose-Headers', 'Mcp-Session-Id, WWW-Authenticate');
    if (req.method === 'OPTIONS') {
      res.set('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      res.set('Access-Control-Allow-Headers', CORS_HEADERS);
      res.set('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Requests per minute per principal (req.auth.clientId, set by authentication). */
export function rateGuard(perMinute: number, refused: RefusalCounter): RequestHandler {
  const limiter = RateLimiter.perMinute(perMinute);
  return (req, res, next) => {
    const decision = limiter.take(req.auth?.clientId ?? 'anonymous', Date.now());
    if (!decision.ok) {
      refused('rate');
      res.set('Retry-After', String(decision.retryAfterSeconds));
      jsonRpcError(res, 429, -32000, `Too many requests; retry after ${decision.retryAfterSeconds} s`);
      return;
    }
    next();
  };
}

/** JSON-RPC batches larger than this are refused. */
export const MAX_BATCH = 100;

export function batchGuard(refused: RefusalCounter): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (Array.isArray(req.body) && req.body.length > MAX_BATCH) {
      refused('batch');
      jsonRpcError(res, 400, -32600, `Invalid Request: batches are limited to ${MAX_BATCH} messages`);
      return;
    }
    next();
  };
}

/**
 * Last handler: maps body-parser failures to 413/400 and anything else to 500, logging only
 * the status and error type, never the body, headers or token.
 */
export function errorHandler(logger: Logger, refused: RefusalCounter): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    void next;
    const type = (error as { type?: unknown }).type;
    let status = 500;
    if (type === 'entity.too.large') status = 413;
    else if (
      type === 'entity.parse.failed' ||
      type === 'encoding.unsupported' ||
      type === 'charset.unsupported'
    )
      status = 400;
    else if (typeof (error as { status?: unknown }).status === 'number')
      status = (error as { status: number }).status;
    refused(status === 413 ? 'too-large' : status === 400 ? 'malformed' : 'error');
    logger.warn(
      { status, type: typeof type === 'string' ? type : 'internal', method: req.method, path: req.path },
      'HTTP request refused',
    );
    if (res.headersSent) return;
    if (status === 413) jsonRpcError(res, 413, -32600, 'Request body too large');
    else if (status === 400) jsonRpcError(res, 400, -32700, 'Parse error: the body is not valid JSON');
    else jsonRpcError(res, status >= 400 && status < 600 ? status : 500, -32603, 'Internal error');
  };
}
