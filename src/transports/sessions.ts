/**
 * MCP sessions over HTTP: one McpServer and one transport per session, random ids, bound to
 * the principal that created them, capped per principal and in total, and closed after an idle
 * timeout, on DELETE and on shutdown. One principal never closes another's session: a principal
 * at its own cap gives up its own session idle the longest, and when all sessions are taken a
 * principal that holds none is refused until one frees up.
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

export interface SessionLimits {
  readonly max: number;
  readonly perPrincipal: number;
  readonly idleMs: number;
}

export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly message: string };

export class SessionRegistry {
  // Map order is the least-recently-used order: get() re-inserts.
  private readonly sessions = new Map<string, Session>();
  private readonly held = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly limits: SessionLimits,
    private readonly logger: Logger,
  ) {
    const every = Math.min(30_000, Math.max(1000, limits.idleMs / 4));
    this.sweeper = setInterval(() => this.sweep(Date.now()), every);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Sessions held by one principal. */
  heldBy(principal: string): number {
    return this.held.get(principal) ?? 0;
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

  /**
   * Room for one more session of `principal`, made at once (no await between this and add()):
   * at its own cap, or when all sessions are taken and it holds one, its own least recently
   * used session is closed. Refused when the sessions are all held by other principals.
   */
  admit(principal: string, now = Date.now()): Admission {
    const held = this.heldBy(principal);
    if (held >= this.limits.perPrincipal || (held > 0 && this.sessions.size >= this.limits.max)) {
      const oldest = this.oldestOf(principal);
      if (oldest !== undefined) {
        this.logger.info(
          { session: oldest.id.slice(0, 8), principal },
          'session limit reached; closing the least recently used session of the same principal',
        );
        void this.close(oldest.id);
      }
    }
    if (this.sessions.size < this.limits.max) return { ok: true };
    const first = this.sessions.values().next().value;
    const frees = first === undefined ? now : first.lastSeen + this.limits.idleMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((frees - now) / 1000));
    this.logger.warn(
      { principal, sessions: this.sessions.size },
      'session limit reached; new session refused',
    );
    return {
      ok: false,
      retryAfterSeconds,
      message: `Session limit reached (${this.limits.max} sessions held by other clients); retry after ${retryAfterSeconds} s`,
    };
  }

  add(session: Session): void {
    this.remove(session.id);
    this.sessions.set(session.id, session);
    this.held.set(session.principal, this.heldBy(session.principal) + 1);
  }

  /** Forget a session the transport already closed (DELETE or transport close). */
  forget(id: string): void {
    this.remove(id);
  }

  async close(id: string): Promise<void> {
    const session = this.remove(id);
    if (session === undefined) return;
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }

  sweep(now: number): void {
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastSeen > this.limits.idleMs) {
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

  private oldestOf(principal: string): Session | undefined {
    for (const session of this.sessions.values()) if (session.principal === principal) return session;
    return undefined;
  }

  private remove(id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    this.sessions.delete(id);
    const held = this.heldBy(session.principal) - 1;
    if (held > 0) this.held.set(session.principal, held);
    else this.held.delete(session.principal);
    return session;
  }
}
