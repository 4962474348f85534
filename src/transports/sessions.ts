/**
 * MCP sessions over HTTP: one McpServer and one transport per session, random ids, bound to
 * the principal that created them, capped in number (the session idle the longest is closed
 * to make room) and closed after an idle timeout, on DELETE and on shutdown.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from '../logging/logger.js';

export interface Session {
  readonly id: string;
  readonly principal: string;
  readonly server: McpServer;
  readonly transport: StreamableHTTPServerTransport;
  lastSeen: number;
}

export class SessionRegistry {
  // Map order is the least-recently-used order: touch() re-inserts.
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxSessions: number,
    private readonly idleMs: number,
    private readonly logger: Logger,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(30_000, Math.max(1000, idleMs / 4)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The session, if it exists and belongs to this principal (another principal gets nothing). */
  get(id: string, principal: string): Session | undefined {
    const session = this.sessions.get(id);
    if (session === undefined || session.principal !== principal) return undefined;
    this.sessions.delete(id);
    session.lastSeen = Date.now();
    this.sessions.set(id, session);
    return session;
  }

  /** Make room for one more session, closing the one idle the longest when full. */
  async makeRoom(): Promise<void> {
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.values().next().value;
      if (oldest === undefined) return;
      this.logger.info(
        { session: oldest.id.slice(0, 8), principal: oldest.principal },
        'session limit reached; closing the least recently used session',
      );
      await this.close(oldest.id);
    }
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
  }

  /** Forget a session the transport already closed (DELETE or transport close). */
  forget(id: string): void {
    this.sessions.delete(id);
  }

  async close(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (session === undefined) return;
    this.sessions.delete(id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }

  sweep(now: number): void {
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastSeen > this.idleMs) {
        this.logger.info(
          { session: session.id.slice(0, 8), principal: session.principal },
          'closing idle session',
        );
        void this.close(session.id);
      }
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }
}
