/**
 * What a read result stands on, in the fields of BasisShape: whether the broker really delivers
 * the filter now (coverage from granted subscriptions, and the connection when it is down), how
 * far back memory is complete (heldSince, olderDropped), and whether the result was cut (more).
 * Fields are present only when they say something: a connected bridge with full coverage and
 * nothing dropped adds nothing but `coverage`.
 */
import type { Coverage } from '../subscriptions.js';
import type { ToolDeps } from './deps.js';

export interface Basis {
  coverage: Coverage;
  connection?: { state: string; since: string; lastError?: string };
  collectingSince?: string;
  heldSince?: string;
  olderDropped?: number;
  more?: true;
  omitted?: number;
}

export interface BasisOptions {
  /** The start of the time window asked for (epoch ms); undefined: no window. */
  readonly since?: number | undefined;
  /** A limit cut the result. */
  readonly limited: boolean;
  /** Messages left out by the byte budget. */
  readonly omitted?: number | undefined;
  /** Say how far back memory is complete (reads of history; not last-known values or listings). */
  readonly held?: boolean;
  /** History answered: the receive time of its oldest record (it holds nothing earlier). */
  readonly historySince?: number;
  readonly now: number;
}

export function readBasis(deps: ToolDeps, filters: readonly string[], options: BasisOptions): Basis {
  const covered = filters.map((f) => deps.subscriptions.coverage(f));
  const basis: Basis = { coverage: combine(covered.map((c) => c.coverage)) };
  if (!deps.link.connected) basis.connection = connectionBasis(deps);
  const since = options.since;
  if (options.historySince !== undefined) {
    // History answered: it reaches back to its oldest record, whatever memory and the current
    // connection hold. A window reaching before that is told so (when the limit did not cut).
    if (!options.limited && (since === undefined || since < options.historySince)) {
      basis.heldSince = iso(options.historySince);
    }
  } else {
    const started = covered.reduce((latest, c) => Math.max(latest, c.since ?? 0), 0);
    if (since !== undefined && started > since) basis.collectingSince = iso(started);
    const held = options.held === false ? undefined : deps.store.held(filters, options.now);
    if (held !== undefined && held.dropped > 0 && (since === undefined || held.droppedUntil >= since)) {
      basis.heldSince = iso(held.droppedUntil);
      basis.olderDropped = held.dropped;
    }
  }
  if (options.limited || (options.omitted ?? 0) > 0) basis.more = true;
  if (options.omitted !== undefined && options.omitted > 0) basis.omitted = options.omitted;
  return basis;
}

/**
 * Since when memory holds every message of the filter (epoch ms): the broker has delivered it
 * since the subscription was granted on this connection, and nothing of it was dropped after.
 * Infinity when the filter is not fully delivered now (memory cannot answer for it alone).
 */
export function memorySince(deps: ToolDeps, filter: string, now: number): number {
  const covered = deps.subscriptions.coverage(filter);
  if (covered.coverage !== 'full' || covered.since === undefined) return Number.POSITIVE_INFINITY;
  const held = deps.store.held([filter], now);
  return held.dropped > 0 ? Math.max(covered.since, held.droppedUntil + 1) : covered.since;
}

/** The connection while it is down: its state, since when, and the last error in operator words. */
export function connectionBasis(deps: ToolDeps): NonNullable<Basis['connection']> {
  const s = deps.link.status();
  return {
    state: s.state,
    since: s.since,
    ...(s.lastError !== undefined ? { lastError: s.lastError.message } : {}),
  };
}

/** Several filters together: full only when all are, none only when none is collected at all. */
function combine(all: readonly Coverage[]): Coverage {
  if (all.every((c) => c === 'full')) return 'full';
  if (all.every((c) => c === 'none')) return 'none';
  if (all.some((c) => c === 'full' || c === 'partial')) return 'partial';
  return 'pending';
}

/** Epoch milliseconds as ISO 8601, as every result shows times. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
