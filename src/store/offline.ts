/**
 * When this process was not connected to the broker: from its start until the first connection,
 * and every loss until the next connection. Bounded (the newest periods are kept); with history
 * on, the record on disk adds the periods of earlier runs.
 */
import type { OfflinePeriod } from '../history/types.js';

const MAX_PERIODS = 200;

export class OfflinePeriods {
  private readonly closed: OfflinePeriod[] = [];
  /** Start of the current offline period; undefined while connected. */
  private downSince: number | undefined;

  constructor(startedAt: number) {
    this.downSince = startedAt;
  }

  up(at: number): void {
    if (this.downSince === undefined) return;
    this.closed.push({ from: this.downSince, to: at });
    if (this.closed.length > MAX_PERIODS) this.closed.shift();
    this.downSince = undefined;
  }

  down(at: number): void {
    if (this.downSince === undefined) this.downSince = at;
  }

  /** Periods overlapping [from, now], oldest first; the last has no `to` while still offline. */
  since(from: number): OfflinePeriod[] {
    const out = this.closed.filter((p) => (p.to ?? Infinity) >= from);
    if (this.downSince !== undefined) out.push({ from: this.downSince });
    return out;
  }
}

/** Periods from several sources as one list: overlapping ones joined, oldest first. */
export function unionPeriods(lists: ReadonlyArray<readonly OfflinePeriod[]>): OfflinePeriod[] {
  const all = lists.flat().sort((a, b) => a.from - b.from);
  const out: Array<{ from: number; to?: number }> = [];
  for (const p of all) {
    const last = out[out.length - 1];
    if (last !== undefined && (last.to === undefined || p.from <= last.to)) {
      if (last.to !== undefined) {
        if (p.to === undefined) delete last.to;
        else last.to = Math.max(last.to, p.to);
      }
      continue;
    }
    out.push(p.to === undefined ? { from: p.from } : { from: p.from, to: p.to });
  }
  return out;
}
