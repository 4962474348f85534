/**
 * The recorder's queue of messages waiting to be written, by column in a ring (like the store's
 * message columns, store/nodes.ts): no object per waiting message but its topic and payload
 * strings, which the store already made and which hold no pointers. While the writer falls
 * behind, a queue of objects kept every waiting message's graph alive through the garbage
 * collector's young generation, at the ingest thread's cost. A queued message is named by its
 * position, counted from the first message ever queued.
 */
import type { MessageProperties } from '../bridge.js';
import type { StoredMessage } from '../store/types.js';
import type { HistoryRecord } from './types.js';

const MIN_CAPACITY = 1024;

export class RecordQueue {
  /** Position of the oldest message waiting, and one past the newest. */
  head = 0;
  tail = 0;
  private mask = MIN_CAPACITY - 1;
  private topic: string[] = [];
  private data: string[] = [];
  private receivedAt = new Float64Array(0);
  private seq = new Float64Array(0);
  private size = new Float64Array(0);
  /** QoS in bits 0-1, retain in bit 2. */
  private flags = new Uint8Array(0);
  /** The few messages that carry properties, by position. */
  private readonly properties = new Map<number, MessageProperties>();

  constructor() {
    this.resize(MIN_CAPACITY);
  }

  get length(): number {
    return this.tail - this.head;
  }

  /** Append a stored message; its position. */
  push(m: StoredMessage): number {
    if (this.tail - this.head > this.mask) this.resize((this.mask + 1) * 2);
    const at = this.tail++;
    const i = at & this.mask;
    this.topic[i] = m.topic;
    this.data[i] = m.data;
    this.receivedAt[i] = m.receivedAt;
    this.seq[i] = m.seq;
    this.size[i] = m.sizeBytes;
    this.flags[i] = m.qos | (m.retain ? 4 : 0);
    if (m.properties !== undefined) this.properties.set(at, m.properties);
    return at;
  }

  /** The topic and stored payload length of a waiting message (what the recorder charges for it). */
  topicAt(at: number): string {
    return this.topic[at & this.mask] as string;
  }

  storedBytesAt(at: number): number {
    return (this.data[at & this.mask] as string).length;
  }

  seqAt(at: number): number {
    return this.seq[at & this.mask] as number;
  }

  /** The record the message at `at` becomes, its payload cut to `maxPayloadBytes`. */
  record(at: number, maxPayloadBytes: number): HistoryRecord {
    const i = at & this.mask;
    const data = this.data[i] as string;
    const f = this.flags[i] as number;
    return {
      topic: this.topic[i] as string,
      payload: data.length > maxPayloadBytes ? data.slice(0, maxPayloadBytes) : data,
      sizeBytes: this.size[i] as number,
      qos: (f & 3) as 0 | 1 | 2,
      retain: (f & 4) !== 0,
      receivedAt: this.receivedAt[i] as number,
      properties: this.properties.get(at),
    };
  }

  /** Let go of the oldest message. */
  shift(): void {
    if (this.head === this.tail) return;
    const i = this.head & this.mask;
    this.topic[i] = '';
    this.data[i] = '';
    if (this.properties.size > 0) this.properties.delete(this.head);
    this.head++;
    // Emptied after a burst: give the room back.
    if (this.head === this.tail && this.mask >= MIN_CAPACITY * 4) this.resize(MIN_CAPACITY);
  }

  private resize(capacity: number): void {
    const topic: string[] = [];
    const data: string[] = [];
    const receivedAt = new Float64Array(capacity);
    const seq = new Float64Array(capacity);
    const size = new Float64Array(capacity);
    const flags = new Uint8Array(capacity);
    const mask = capacity - 1;
    // Pushed in order (so V8 keeps the arrays packed), each message at its position's new index.
    for (let k = 0; k < capacity; k++) {
      topic.push('');
      data.push('');
    }
    for (let at = this.head; at < this.tail; at++) {
      const from = at & this.mask;
      const to = at & mask;
      topic[to] = this.topic[from] as string;
      data[to] = this.data[from] as string;
      receivedAt[to] = this.receivedAt[from] as number;
      seq[to] = this.seq[from] as number;
      size[to] = this.size[from] as number;
      flags[to] = this.flags[from] as number;
    }
    this.topic = topic;
    this.data = data;
    this.receivedAt = receivedAt;
    this.seq = seq;
    this.size = size;
    this.flags = flags;
    this.mask = mask;
  }
}
