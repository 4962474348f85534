/**
 * The recorder: the ingest path's only contact with history. enqueue() appends the stored message
 * to a bounded queue of columns (no parsing, no I/O); a timer hands the queue to the backend as one
 * batch, of records made then, every flush interval, one batch in flight at a time. When the
 * backend cannot keep up or cannot write (a HistoryFault: disk full, read-only, locked, vanished),
 * records wait in the queue, the oldest are dropped past its bounds and counted, and the same
 * batch is tried again with a growing pause until the fault clears. Pruning runs in small steps
 * between batches.
 *
 * At-least-once recording: a record may carry the broker acknowledgement of its message (the
 * link holds the PUBACK, see IncomingMessage.hold); it is sent once the batch holding the record
 * is committed, so a process killed before that gets the message again from the broker. A full
 * queue whose oldest record holds its acknowledgement is not cut: the recorder pauses the link's
 * intake (RecorderOptions.intake) until the writer has taken a batch, and the broker keeps what
 * follows. Without an intake to pause, such a record is dropped and acknowledged at once. While
 * history is paused nothing is held: records queued
 * then are acknowledged on arrival, and those held when the fault began are released, so the
 * live tools never stall behind a broken database; they are counted in `ackedUnwritten`.
 */
import type { Logger } from '../logging/logger.js';
import { topicMatches } from '../mqtt/topic.js';
import type { StoredMessage } from '../store/types.js';
import type { Delivery } from '../bridge.js';
import { RecordQueue } from './record-queue.js';
import { HistoryFault, type HistoryBackend, type HistoryRecord, type LinkEvent } from './types.js';

export interface RecorderOptions {
  /** Filters recorded; ['#']: everything collected. */
  readonly topics: readonly string[];
  readonly maxPayloadBytes: number;
  readonly flushMs: number;
  /** Records waiting at most. */
  readonly queueMax: number;
  /** Payload bytes waiting at most (with a fixed cost per record). */
  readonly queueMaxBytes: number;
  /** Most records handed over in one batch. */
  readonly batchMax?: number;
  /** Between pruning passes. */
  readonly pruneEveryMs?: number;
  readonly now?: () => number;
  /**
   * At-least-once recording: the link whose messages hold their acknowledgements. A full queue
   * then pauses its intake instead of dropping a held record (which would acknowledge it unwritten).
   */
  readonly intake?: { pauseIntake(): () => void };
}

/** What the queue charges per record besides the payload: the record object, its fields, the array slot. */
export const RECORD_BYTES = 160;
const MAX_LINK_EVENTS = 1000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * A record waiting in the queue is a row of its columns (record-queue.ts), named by its position;
 * the HistoryRecord handed to the backend is made when its batch is taken, and dies young.
 */
type Queued = number;

export interface RecorderStatus {
  readonly state: 'recording' | 'paused';
  /** Why it is paused, in operator words. */
  readonly reason?: string;
  /** Since when it is paused (epoch ms). */
  readonly since?: number;
  readonly written: number;
  readonly queued: number;
  readonly dropped: { readonly queueFull: number; readonly whilePaused: number };
  /** Held acknowledgements sent before the record was written (history paused, or the record dropped). */
  readonly ackedUnwritten: number;
  /** Times a full queue of held records paused the link's intake (at-least-once recording). */
  readonly intakePauses: number;
}

export class Recorder {
  private readonly queue = new RecordQueue();
  private queuedBytes = 0;
  private events: LinkEvent[] = [];
  private inFlight:
    { from: Queued; to: Queued; lastSeq: number; records: HistoryRecord[]; events: LinkEvent[] } | undefined;
  /**
   * Held broker acknowledgements (at-least-once recording), by record: each sends its PUBACK once.
   * Kept beside the records, not on them: the records go to the SQLite worker by structured
   * clone, which cannot carry a function.
   */
  private readonly acks = new Map<Queued, () => void>();
  /** At-least-once recording: the packet id of each queued message that has one. */
  private readonly deliveries = new Map<Queued, Delivery>();
  /**
   * The store sequence number of the newest message written: every collected message after it
   * is in memory only (not yet written, or dropped and counted), so reads take it from there.
   */
  writtenSeq = 0;
  private fault: { reason: string; since: number; retryMs: number } | undefined;
  private written = 0;
  private ackedUnwritten = 0;
  /** The paused intake's resume, while a full queue of held records waits for the writer. */
  private resumeIntake: (() => void) | undefined;
  private intakePauses = 0;
  private readonly dropped = { queueFull: 0, whilePaused: 0 };
  private readonly recordAll: boolean;
  private readonly batchMax: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private pruning = false;
  private closed = false;

  constructor(
    private readonly backend: HistoryBackend,
    private readonly options: RecorderOptions,
    private readonly logger: Logger,
  ) {
    this.recordAll = options.topics.includes('#');
    this.batchMax = options.batchMax ?? 20_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether messages of this topic are recorded (HISTORY_TOPICS). */
  records(topic: string): boolean {
    return this.recordAll || this.options.topics.some((f) => topicMatches(f, topic));
  }

  /**
   * The ingest hot path: one append, and a drop of the oldest when over the bounds. `hold` holds
   * the message's broker acknowledgement until the record is committed (not while paused).
   */
  enqueue(message: StoredMessage, hold?: () => () => void, delivery?: Delivery): void {
    if (this.closed || !this.records(message.topic)) return;
    let ack: (() => void) | undefined;
    if (hold !== undefined) {
      if (this.fault === undefined) ack = hold();
      else this.ackedUnwritten++;
    }
    const at = this.queue.push(message);
    if (ack !== undefined) this.acks.set(at, ack);
    if (delivery !== undefined) this.deliveries.set(at, delivery);
    this.queuedBytes += this.cost(at);
    while (this.overBounds(1)) {
      const intake = this.options.intake;
      if (intake !== undefined && this.acks.has(this.queue.head)) {
        // Cutting it would acknowledge a message never written: read no more until there is room.
        if (this.resumeIntake === undefined) {
          this.resumeIntake = intake.pauseIntake();
          this.intakePauses++;
        }
        break;
      }
      this.dropOldest();
    }
  }

  /** Whether the queue holds more than `share` of its bounds. */
  private overBounds(share: number): boolean {
    return (
      this.queue.length > this.options.queueMax * share ||
      this.queuedBytes > this.options.queueMaxBytes * share
    );
  }

  /** Take messages again once the queue is at most three quarters full (or nothing is held). */
  private resumeWhenRoom(force = false): void {
    if (this.resumeIntake === undefined || (!force && this.overBounds(0.75))) return;
    const resume = this.resumeIntake;
    this.resumeIntake = undefined;
    resume();
  }

  /** The bridge's own connection went up or down. */
  link(state: LinkEvent['state']): void {
    if (this.events.length >= MAX_LINK_EVENTS) this.events.shift();
    this.events.push({ at: this.now(), state });
  }

  start(): void {
    this.schedule(this.options.flushMs);
  }

  status(): RecorderStatus {
    const queued = this.queue.length + (this.inFlight?.records.length ?? 0);
    const counts = {
      written: this.written,
      queued,
      dropped: { ...this.dropped },
      ackedUnwritten: this.ackedUnwritten,
      intakePauses: this.intakePauses,
    };
    return this.fault === undefined
      ? { state: 'recording', ...counts }
      : { state: 'paused', reason: this.fault.reason, since: this.fault.since, ...counts };
  }

  /** Write what is queued (bounded by the deadline), then close the backend. */
  async stop(deadlineMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.drain(deadlineMs);
    this.resumeWhenRoom(true);
    await this.backend.close();
  }

  /** Write what is queued now, bounded by the deadline (before a shutdown sends the last acknowledgements). */
  async drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (
      this.fault === undefined &&
      Date.now() < until &&
      (this.pending() > 0 || this.inFlight !== undefined)
    ) {
      if (this.inFlight === undefined) await this.flush();
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private pending(): number {
    return this.queue.length + this.events.length;
  }

  /** What a queued message is charged: the record it becomes, with its payload as recorded. */
  private cost(at: Queued): number {
    const q = this.queue;
    return RECORD_BYTES + Math.min(q.storedBytesAt(at), this.options.maxPayloadBytes) + q.topicAt(at).length;
  }

  /**
   * The record a queued message becomes, once, when its batch is taken: its payload cut to
   * HISTORY_MAX_PAYLOAD_BYTES, its packet id (at-least-once recording) taken from `deliveries`.
   */
  private record(at: Queued): HistoryRecord {
    const record = this.queue.record(at, this.options.maxPayloadBytes);
    if (this.deliveries.size === 0) return record;
    const delivery = this.deliveries.get(at);
    if (delivery === undefined) return record;
    this.deliveries.delete(at);
    return { ...record, mid: delivery.mid, redelivered: delivery.redelivered };
  }

  private dropOldest(): void {
    if (this.queue.length === 0) return;
    const at = this.queue.head;
    this.queuedBytes -= this.cost(at);
    this.deliveries.delete(at);
    this.queue.shift();
    if (this.acks.size > 0 && this.release(at)) this.ackedUnwritten++;
    if (this.fault === undefined) this.dropped.queueFull++;
    else this.dropped.whilePaused++;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.tick();
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await this.flush();
    const now = this.now();
    if (
      this.fault === undefined &&
      !this.pruning &&
      now - this.lastPrune >= (this.options.pruneEveryMs ?? 10_000)
    ) {
      this.lastPrune = now;
      void this.prune();
    }
    // A full batch or more still waiting: the writer keeps up best by getting it at once (one
    // batch in flight at a time), not one batch per flush interval.
    const next =
      this.fault !== undefined
        ? this.fault.retryMs
        : this.pending() >= this.batchMax
          ? 0
          : this.options.flushMs;
    this.schedule(next);
  }

  /** Hand the next batch (or retry the failed one) to the backend. */
  private async flush(): Promise<void> {
    if (this.inFlight === undefined) {
      if (this.pending() === 0) return;
      const from = this.queue.head;
      const to = from + Math.min(this.queue.length, this.batchMax);
      const records: HistoryRecord[] = [];
      let bytes = 0;
      let lastSeq = this.writtenSeq;
      for (let at = from; at < to; at++) {
        records.push(this.record(at));
        bytes += this.cost(at);
        lastSeq = this.queue.seqAt(at);
        this.queue.shift();
      }
      this.queuedBytes -= bytes;
      this.inFlight = { from, to, lastSeq, records, events: this.events };
      this.events = [];
      this.resumeWhenRoom();
    }
    const batch = this.inFlight;
    try {
      await this.backend.append(batch.records, batch.events);
      if (this.acks.size > 0) for (let at = batch.from; at < batch.to; at++) this.release(at);
      this.written += batch.records.length;
      this.writtenSeq = batch.lastSeq;
      this.inFlight = undefined;
      if (this.fault !== undefined) {
        this.logger.info({ path: 'history' }, 'history: recording again');
        this.fault = undefined;
      }
    } catch (error) {
      const reason = error instanceof HistoryFault ? error.message : `cannot write: ${String(error)}`;
      if (this.fault === undefined) {
        this.fault = { reason, since: this.now(), retryMs: RETRY_MIN_MS };
        this.logger.warn({ reason }, 'history: paused; live tools keep working');
        this.releaseHeld();
      } else {
        this.fault = { ...this.fault, reason, retryMs: Math.min(RETRY_MAX_MS, this.fault.retryMs * 2) };
      }
    }
  }

  /** Send the record's held acknowledgement, if any; whether there was one. */
  private release(r: Queued): boolean {
    const ack = this.acks.get(r);
    if (ack === undefined) return false;
    this.acks.delete(r);
    ack();
    return true;
  }

  /** History paused: send every held acknowledgement now (see the top of this file). */
  private releaseHeld(): void {
    const release = (r: Queued) => {
      if (this.release(r)) this.ackedUnwritten++;
    };
    const batch = this.inFlight;
    if (batch !== undefined) for (let at = batch.from; at < batch.to; at++) release(at);
    for (let at = this.queue.head; at < this.queue.tail; at++) release(at);
    this.resumeWhenRoom(true);
  }

  private async prune(): Promise<void> {
    this.pruning = true;
    try {
      // Small steps until nothing is left to prune, each its own short transaction.
      for (let i = 0; i < 1000 && !this.closed; i++) {
        if ((await this.backend.prune(this.now())) === 0) break;
      }
    } catch (error) {
      this.logger.warn({ reason: String(error) }, 'history: pruning failed; will try again');
    } finally {
      this.pruning = false;
    }
  }
}
