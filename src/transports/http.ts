/**
 * Streamable HTTP wiring: /mcp behind Host/Origin guards, authentication, a per-principal rate
 * limit and a bounded JSON body parser; one McpServer and transport per session, kept only when
 * its initialize response was delivered (any other outcome closes both); connection limits
 * before authentication; /healthz and /readyz (unauthenticated, up/down only); /metrics; OAuth
 * protected resource metadata.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express, { type RequestHandler, type Request, type Response } from 'express';
import type { HttpConfig } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import { createAuthentication } from './http-auth.js';
import { ConnectionGate } from './http-connections.js';
import { batchGuard, errorHandler, hostGuard, originGuard, rateGuard } from './http-guards.js';
import { SessionRegistry } from './sessions.js';

export interface HttpDeps {
  readonly config: HttpConfig;
  readonly logger: Logger;
  /** A new McpServer for a new session. */
  readonly createServer: () => McpServer;
  /** MQTT connected? (for /readyz) */
  readonly ready: () => boolean;
  readonly metrics: { render(): Promise<string>; contentType: string; refused(reason: string): void };
  /**
   * MQTT_REPLICA_ID: session ids start with `{replicaId}:`, so a reverse proxy in front of several
   * replicas sends a session's requests to the replica that holds it (docs/SCALING.md).
   */
  readonly sessionPrefix?: string;
}

export interface HttpService {
  readonly port: number;
  readonly sessions: SessionRegistry;
  close(): Promise<void>;
}

function sendError(res: Response, status: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

/** Whether the response was written out completely (false: the client went away first). */
function delivered(res: Response): Promise<boolean> {
  if (res.writableFinished) return Promise.resolve(true);
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      resolve(res.writableFinished);
    };
    res.on('finish', done);
    res.on('close', done);
  });
}

export async function serveHttp(deps: HttpDeps): Promise<HttpService> {
  const { config, logger } = deps;
  const log = logger.child({ component: 'http' });
  const refused = (reason: string) => deps.metrics.refused(reason);
  const sessions = new SessionRegistry(
    { max: config.maxSessions, perPrincipal: config.maxSessionsPerPrincipal, idleMs: config.sessionIdleMs },
    log,
  );
  // Slow-loris bounds: headers and whole requests must arrive in time (checked every second).
  const server: Server = createHttpServer({
    headersTimeout: config.connections.headersTimeoutMs,
    requestTimeout: Math.max(120_000, config.connections.headersTimeoutMs),
    connectionsCheckingInterval: 1000,
  });
  const gate = new ConnectionGate(config.connections, refused, log);
  gate.attach(server);
  // Listen first: with port 0 the public URL (OAuth resource and audience) needs the real port.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart =
    config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  const publicUrl = config.publicUrl ?? `http://${hostPart}:${port}`;
  const auth = createAuthentication(config.auth, publicUrl);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // Probes: no auth, no Host check (orchestrators use pod addresses), nothing but up/down.
  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.ready();
    res
      .set('Cache-Control', 'no-store')
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready' });
  });
  if (auth.resourceMetadata !== undefined && auth.resourceMetadataPath !== undefined) {
    const metadata = auth.resourceMetadata;
    app.get([auth.resourceMetadataPath, '/.well-known/oauth-protected-resource'], (_req, res) => {
      res.json(metadata);
    });
  }
  // A connection that passes authentication leaves the unauthenticated bounds.
  const authenticated: RequestHandler = (req, res, next) => {
    auth.middleware(req, res, (error?: unknown) => {
      if (error === undefined) gate.authenticated(req.socket);
      next(error);
    });
  };
  const metricsHandlers = config.metricsPublic ? [] : [authenticated];
  app.get('/metrics', ...metricsHandlers, (_req: Request, res: Response) => {
    void deps.metrics.render().then(
      (text) => res.set('Content-Type', deps.metrics.contentType).send(text),
      () => sendError(res, 500, 'metrics unavailable'),
    );
  });

  const guards = [
    hostGuard(config.allowedHosts, refused),
    originGuard(config.allowedOrigins, { hosts: config.allowedHosts, port }, refused),
    authenticated,
    rateGuard(config.rateLimitPerMinute, refused),
  ];
  app.options('/mcp', ...guards.slice(0, 2));
  const body = express.json({ limit: config.maxBodyBytes, strict: false });

  /**
   * A new session for an initialize request. It is registered at once (its id is in the response
   * headers before the result) and kept only if the initialize result reached the client; a
   * refusal by the SDK (Accept, Content-Type, JSON-RPC shape), an initialize sent as a
   * notification, a failed handshake or a client that went away closes the server and the
   * transport, which also drops the server's broker event listener.
   */
  const openSession = async (req: Request, res: Response, principal: string): Promise<void> => {
    const admission = sessions.admit(principal);
    if (!admission.ok) {
      refused('sessions');
      res.set('Retry-After', String(admission.retryAfterSeconds));
      sendError(res, 503, admission.message);
      return;
    }
    const id = deps.sessionPrefix !== undefined ? `${deps.sessionPrefix}:${randomUUID()}` : randomUUID();
    // Logs name a session by its prefix and the first 8 characters of its UUID.
    const logId = id.slice(0, id.length - 28);
    const server = deps.createServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: () => {
        sessions.forget(id);
        log.info({ session: logId, principal }, 'session closed by the client');
      },
    });
    transport.onclose = () => sessions.forget(id);
    sessions.add({ id, principal, server, transport, lastSeen: Date.now() });
    let opened = false;
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
      opened =
        (await delivered(res)) &&
        res.statusCode === 200 &&
        transport.sessionId === id &&
        server.server.getClientVersion() !== undefined;
    } finally {
      if (opened && sessions.get(id, principal) !== undefined) {
        log.info({ session: logId, principal }, 'session opened');
      } else {
        sessions.forget(id);
        await transport.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        log.debug({ status: res.statusCode, principal }, 'initialize did not open a session');
      }
    }
  };

  app.post('/mcp', ...guards, body, batchGuard(refused), async (req: Request, res: Response) => {
    const principal = req.auth?.clientId ?? 'anonymous';
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId, principal);
      if (session === undefined) {
        sendError(res, 404, 'Session not found');
        return;
      }
      await session.transport.handleRequest(req, res, req.body);
      return;
    }
    if (!isInitializeRequest(req.body)) {
      sendError(res, 400, 'Bad Request: no valid Mcp-Session-Id header; start with an initialize request');
      return;
    }
    await openSession(req, res, principal);
  });

  const sessionRequest = async (req: Request, res: Response) => {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId !== 'string') {
      sendError(res, 400, 'Bad Request: Mcp-Session-Id header required');
      return;
    }
    const session = sessions.get(sessionId, req.auth?.clientId ?? 'anonymous');
    if (session === undefined) {
      sendError(res, 404, 'Session not found');
      return;
    }
    await session.transport.handleRequest(req, res);
  };
  app.get('/mcp', ...guards, sessionRequest);
  app.delete('/mcp', ...guards, sessionRequest);
  app.use(errorHandler(log, refused));
  server.on('request', app);
  log.info(
    { host: config.host, port, auth: config.auth.mode, endpoint: `${publicUrl}/mcp` },
    'HTTP transport listening',
  );

  return {
    port,
    sessions,
    close: async () => {
      await sessions.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
