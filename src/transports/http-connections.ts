/**
 * Connections before authentication. A connection is pending while it has not yet delivered a
 * request's headers and none of its requests has passed authentication (an unauthenticated
 * connection becomes pending again when its response is done). Pending connections are bounded
 * per remote address (an IPv6 client by its /64) and in total: over a bound, the oldest pending
 * connection of the address (or, over the total, of the address holding the most) is closed,
 * once it has had GRACE_MS to send its request, so that a burst of real requests survives and a
 * flood of half-open connections cannot crowd out a client that authenticates at once. All
 * connections are capped by http.Server.maxConnections, above the pending bound (the difference
 * is kept for authenticated clients) and below the process's file-descriptor limit. Header
 * timeouts bound how long any connection can keep a request half-open.
 */
import type { Server, ServerResponse } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import type { Logger } from '../logging/logger.js';

export interface ConnectionLimits {
  /** All connections at once (http.Server.maxConnections). */
  readonly max: number;
  readonly maxUnauthenticated: number;
  readonly maxUnauthenticatedPerAddress: number;
}

/** A new connection's time to deliver its request before it may be closed to make room. */
export const GRACE_MS = 1000;
const LOG_INTERVAL_MS = 60_000;

/** The key one client is counted under: its address, an IPv6 address by its /64 prefix. */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export class ConnectionGate {
  // Pending connections by address key, each map in the order they became pending (value: since).
  private readonly pending = new Map<string, Map<Socket, number>>();
  private pendingCount = 0;
  private readonly keys = new WeakMap<Socket, string>();
  private readonly trusted = new WeakSet<Socket>();
  private closedSinceLog = 0;
  private lastLog = 0;
  /** An enforcement is scheduled (scheduleEnforce). */
  private enforcing = false;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly refused: (reason: string) => void,
    private readonly logger: Logger,
  ) {}

  /** Apply the limits to a server (before its request handler is added). */
  attach(server: Server): void {
    server.maxConnections = this.limits.max;
    server.on('connection', (socket: Socket) => this.admit(socket, Date.now()));
    server.on('request', (req: { socket: Socket }, res: ServerResponse) =>
      this.requestStarted(req.socket, res),
    );
    server.on('drop', () => this.refused('connections'));
    const sweeper = setInterval(() => this.scheduleEnforce(), GRACE_MS / 4);
    sweeper.unref();
    server.once('close', () => clearInterval(sweeper));
  }

  /** A request on this connection passed authentication: it is never pending again. */
  authenticated(socket: Socket): void {
    this.trusted.add(socket);
    this.release(socket);
  }

  private admit(socket: Socket, now: number): void {
    this.keys.set(socket, addressKey(socket.remoteAddress));
    socket.once('close', () => this.release(socket));
    this.add(socket, now);
    this.scheduleEnforce();
  }

  /**
   * Enforce the bounds once the I/O that is ready now has been handled (setImmediate runs after
   * the event loop's poll phase). A process that was starved of CPU for longer than GRACE_MS
   * (a loaded machine) then first reads the requests already waiting in its sockets, which
   * releases them, instead of closing them as if their clients had sent nothing.
   */
  private scheduleEnforce(): void {
    if (this.enforcing) return;
    this.enforcing = true;
    setImmediate(() => {
      this.enforcing = false;
      this.enforce(Date.now());
    });
  }

  private requestStarted(socket: Socket, res: ServerResponse): void {
    if (this.trusted.has(socket)) return;
    this.release(socket);
    res.once('close', () => {
      if (!this.trusted.has(socket) && !socket.destroyed) this.add(socket, Date.now());
    });
  }

  private add(socket: Socket, now: number): void {
    const key = this.keys.get(socket) ?? '';
    let own = this.pending.get(key);
    if (own === undefined) {
      own = new Map();
      this.pending.set(key, own);
    }
    if (own.has(socket)) return;
    own.set(socket, now);
    this.pendingCount++;
  }

  private release(socket: Socket): void {
    const key = this.keys.get(socket) ?? '';
    const own = this.pending.get(key);
    if (own === undefined || !own.delete(socket)) return;
    this.pendingCount--;
    if (own.size === 0) this.pending.delete(key);
  }

  /** Close the oldest pending connections past their grace while a bound is exceeded. */
  private enforce(now: number): void {
    for (const [key, own] of this.pending) {
      while (
        own.size > this.limits.maxUnauthenticatedPerAddress &&
        this.closeOldest(own, key, now, 'address')
      );
    }
    while (this.pendingCount > this.limits.maxUnauthenticated) {
      const [key, busiest] = this.busiest(now);
      if (busiest === undefined || !this.closeOldest(busiest, key, now, 'total')) return;
    }
  }

  /** Of the addresses whose oldest pending connection is past its grace, the one holding the most. */
  private busiest(now: number): [string, Map<Socket, number> | undefined] {
    let bestKey = '';
    let best: Map<Socket, number> | undefined;
    let bestSince = Infinity;
    for (const [key, own] of this.pending) {
      const since = own.values().next().value ?? Infinity;
      if (now - since < GRACE_MS) continue;
      if (best === undefined || own.size > best.size || (own.size === best.size && since < bestSince)) {
        bestKey = key;
        best = own;
        bestSince = since;
      }
    }
    return [bestKey, best];
  }

  private closeOldest(
    own: Map<Socket, number>,
    key: string,
    now: number,
    reason: 'address' | 'total',
  ): boolean {
    const next = own.entries().next().value;
    if (next === undefined || now - next[1] < GRACE_MS) return false;
    const [oldest] = next;
    this.release(oldest);
    oldest.destroy();
    this.refused(`unauthenticated-${reason}`);
    this.closedSinceLog++;
    if (now - this.lastLog >= LOG_INTERVAL_MS) {
      this.logger.warn(
        {
          closed: this.closedSinceLog,
          pending: this.pendingCount,
          address: key,
          limit:
            reason === 'address' ? this.limits.maxUnauthenticatedPerAddress : this.limits.maxUnauthenticated,
          reason,
        },
        'too many unauthenticated connections; closing the oldest',
      );
      this.lastLog = now;
      this.closedSinceLog = 0;
    }
    return true;
  }
}
