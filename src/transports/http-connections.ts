/**
 * Connections before authentication. Every new connection counts as unauthenticated until it
 * makes a request that passes authentication; those are bounded per remote address (an IPv6
 * client by its /64) and in total. A new connection over a bound closes the oldest
 * unauthenticated one of its own address, or, over the total, of the address holding the most,
 * so that a flood of half-open connections cannot crowd out a client that authenticates at once.
 * The total of all connections (http.Server.maxConnections) is set above the unauthenticated
 * bound: the difference is kept for authenticated clients, and the whole stays below the
 * process's file-descriptor limit. Header timeouts bound how long any connection can wait.
 */
import type { Server } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import type { Logger } from '../logging/logger.js';

export interface ConnectionLimits {
  /** All connections at once (http.Server.maxConnections). */
  readonly max: number;
  readonly maxUnauthenticated: number;
  readonly maxUnauthenticatedPerAddress: number;
}

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
  // Unauthenticated connections by address key, each map in arrival order (value: arrival number).
  private readonly byAddress = new Map<string, Map<Socket, number>>();
  private unauthenticatedCount = 0;
  private arrivals = 0;
  private closedSinceLog = 0;
  private lastLog = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly refused: (reason: string) => void,
    private readonly logger: Logger,
  ) {}

  /** Apply the limits to a listening server. */
  attach(server: Server): void {
    server.maxConnections = this.limits.max;
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('drop', () => this.refused('connections'));
  }

  /** A new connection: unauthenticated until authenticated() is called for it. */
  admit(socket: Socket): void {
    const key = addressKey(socket.remoteAddress);
    let own = this.byAddress.get(key);
    if (own === undefined) {
      own = new Map();
      this.byAddress.set(key, own);
    }
    own.set(socket, this.arrivals++);
    this.unauthenticatedCount++;
    socket.once('close', () => this.release(socket, key));
    if (own.size > this.limits.maxUnauthenticatedPerAddress) this.evictOldest(own, key, 'address');
    else if (this.unauthenticatedCount > this.limits.maxUnauthenticated) {
      const [busiestKey, busiest] = this.busiest();
      if (busiest !== undefined) this.evictOldest(busiest, busiestKey, 'total');
    }
  }

  /** The connection made an authenticated request: it no longer counts against the bounds. */
  authenticated(socket: Socket): void {
    this.release(socket, addressKey(socket.remoteAddress));
  }

  private release(socket: Socket, key: string): void {
    const own = this.byAddress.get(key);
    if (own === undefined || !own.delete(socket)) return;
    this.unauthenticatedCount--;
    if (own.size === 0) this.byAddress.delete(key);
  }

  /** The address holding the most unauthenticated connections (ties: the oldest connection). */
  private busiest(): [string, Map<Socket, number> | undefined] {
    let bestKey = '';
    let best: Map<Socket, number> | undefined;
    let bestOldest = Infinity;
    for (const [key, own] of this.byAddress) {
      const oldest = own.values().next().value ?? Infinity;
      if (best === undefined || own.size > best.size || (own.size === best.size && oldest < bestOldest)) {
        bestKey = key;
        best = own;
        bestOldest = oldest;
      }
    }
    return [bestKey, best];
  }

  private evictOldest(own: Map<Socket, number>, key: string, reason: 'address' | 'total'): void {
    const oldest = own.keys().next().value;
    if (oldest === undefined) return;
    this.release(oldest, key);
    oldest.destroy();
    this.refused(`unauthenticated-${reason}`);
    this.closedSinceLog++;
    const now = Date.now();
    if (now - this.lastLog >= LOG_INTERVAL_MS) {
      this.logger.warn(
        {
          closed: this.closedSinceLog,
          unauthenticated: this.unauthenticatedCount,
          limit:
            reason === 'address' ? this.limits.maxUnauthenticatedPerAddress : this.limits.maxUnauthenticated,
          reason,
        },
        'too many unauthenticated connections; closing the oldest',
      );
      this.lastLog = now;
      this.closedSinceLog = 0;
    }
  }
}
