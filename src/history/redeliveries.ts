/**
 * Copies the broker resends after a crash, told apart from first deliveries, for both writers.
 *
 * At-least-once recording acknowledges a message only after the batch holding it is committed
 * (src/mqtt/client.ts). A process killed between that commit and its PUBACKs loses the link's
 * memory of what it committed; the broker resends those messages to the restarted session with
 * DUP set and the same packet id. So each batch that carries packet ids stores them, per MQTT
 * session (client id), in the table `held`, in the same transaction as the records. A session
 * keeps its newest batches up to KEEP_IDS ids (the broker's whole id space; the resent copies
 * come first after the reconnect, so they fall in the new process's first batches, and the kept
 * ones still reach back to the crash). A redelivered (DUP) record whose packet id is among them is
 * a copy of a committed record: not written again, counted.
 *
 * Why the packet id alone is exact: the broker gives a session's messages ids in turn
 * (1..65535, then from 1 again), so the last 65,535 ids a session recorded are distinct as long
 * as every message delivered to it is recorded (collection, not a live wait, inside
 * HISTORY_TOPICS). A DUP record with an id not among them was never committed: a first recording
 * (the crash came before its batch).
 */
import type { HistoryRecord } from './types.js';

/** Packet ids kept per session, at most: the broker's id space. */
export const KEEP_IDS = 65_535;

export interface HeldBatch {
  readonly batch: number;
  readonly mids: ReadonlySet<number>;
}

/** The packet ids of this batch's records that carry one, as stored (2 bytes each), or undefined. */
export function batchMids(records: readonly HistoryRecord[]): Uint8Array | undefined {
  let n = 0;
  for (const r of records) if (r.mid !== undefined) n++;
  if (n === 0) return undefined;
  const out = new Uint8Array(n * 2);
  let i = 0;
  for (const r of records) {
    if (r.mid === undefined) continue;
    out[i++] = r.mid >> 8;
    out[i++] = r.mid & 0xff;
  }
  return out;
}

export function readMids(bytes: Uint8Array): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i + 1 < bytes.length; i += 2)
    out.add(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  return out;
}

/** The session's kept batches, newest first, after this one is added. */
function keep(batches: readonly HeldBatch[], added: HeldBatch): HeldBatch[] {
  const out = [added];
  let ids = added.mids.size;
  for (const b of batches) {
    if (ids >= KEEP_IDS) break;
    out.push(b);
    ids += b.mids.size;
  }
  return out;
}

/** Whether a record is a resent copy of one the session committed in a kept batch. */
export function isCopy(r: HistoryRecord, batches: readonly HeldBatch[]): boolean {
  if (r.redelivered !== true || r.mid === undefined) return false;
  for (const b of batches) if (b.mids.has(r.mid)) return true;
  return false;
}

/**
 * What a batch with these packet ids adds for its session: its batch number, the session's kept
 * batches after it (newest first), and the batch numbers below which stored rows are dropped
 * (undefined: nothing to drop). Both writers store the row and run the delete.
 */
export function nextHeld(
  held: readonly HeldBatch[],
  mids: Uint8Array,
): { batch: number; kept: HeldBatch[]; dropBelow: number | undefined } {
  const batch = (held[0]?.batch ?? 0) + 1;
  const kept = keep(held, { batch, mids: readMids(mids) });
  const oldest = (kept.at(-1) as HeldBatch).batch;
  return { batch, kept, dropBelow: (held.at(-1)?.batch ?? oldest) < oldest ? oldest : undefined };
}
