/**
 * The nodes of the message store: a topic entry, a stored message (threaded through its
 * topic's list and the global receive-order list), and the global list itself.
 */
import type { MessageProperties } from '../bridge.js';
import type { StoredMessage } from './types.js';

// Msg.flags: QoS in bits 0-1, then one bit each.
const RETAIN = 4;
const LISTED = 8;
const PASSED = 16;
const QUEUED = 32;

export class Entry {
  head: Msg | undefined = undefined;
  tail: Msg | undefined = undefined;
  stored = 0;
  received = 0;
  lastReceivedAt = 0;
  lastRetain = false;
  lastSizeBytes = 0;
  /** Receive time of the newest message of this topic that the store's bounds dropped (0: none). */
  lastEvictedAt = 0;
  uPrev: Entry | undefined = undefined;
  uNext: Entry | undefined = undefined;
  constructor(
    readonly topic: string,
    /** Heap bytes of the entry and its name (cost.ts), counted against the byte limit. */
    readonly cost: number,
  ) {}
}

/**
 * One stored message, kept small (memory per message is a benchmark target): the payload is a
 * latin1 string (one byte per character, any bytes, no per-message Buffer object), the small
 * fields share one integer, and the node carries its own list links.
 */
export class Msg implements StoredMessage {
  gPrev: Msg | undefined = undefined;
  gNext: Msg | undefined = undefined;
  tPrev: Msg | undefined = undefined;
  tNext: Msg | undefined = undefined;
  private flags: number;
  constructor(
    readonly entry: Entry,
    /** The stored bytes, one latin1 character each. */
    readonly data: string,
    qos: 0 | 1 | 2,
    retain: boolean,
    readonly receivedAt: number,
    readonly sizeBytes: number,
    readonly seq: number,
    readonly properties: MessageProperties | undefined,
  ) {
    this.flags = qos | (retain ? RETAIN : 0);
  }
  get topic(): string {
    return this.entry.topic;
  }
  get payload(): Buffer {
    return Buffer.from(this.data, 'latin1');
  }
  get storedBytes(): number {
    return this.data.length;
  }
  get qos(): 0 | 1 | 2 {
    return (this.flags & 3) as 0 | 1 | 2;
  }
  get retain(): boolean {
    return (this.flags & RETAIN) !== 0;
  }
  /** In the store's global list (false once evicted). */
  get listed(): boolean {
    return (this.flags & LISTED) !== 0;
  }
  set listed(on: boolean) {
    this.flags = on ? this.flags | LISTED : this.flags & ~LISTED;
  }
  /** Passed by the byte-eviction scan while it was its topic's last-known value. */
  get passed(): boolean {
    return (this.flags & PASSED) !== 0;
  }
  set passed(on: boolean) {
    this.flags = on ? this.flags | PASSED : this.flags & ~PASSED;
  }
  /** In the store's heap of history the byte-eviction scan passed (also after an eviction). */
  get queued(): boolean {
    return (this.flags & QUEUED) !== 0;
  }
  set queued(on: boolean) {
    this.flags = on ? this.flags | QUEUED : this.flags & ~QUEUED;
  }
}

/** A doubly linked list threaded through Msg.gPrev/gNext. */
export class MsgList {
  head: Msg | undefined = undefined;
  tail: Msg | undefined = undefined;

  push(m: Msg): void {
    m.listed = true;
    m.gPrev = this.tail;
    m.gNext = undefined;
    if (this.tail === undefined) this.head = m;
    else this.tail.gNext = m;
    this.tail = m;
  }

  remove(m: Msg): void {
    if (m.gPrev === undefined) this.head = m.gNext;
    else m.gPrev.gNext = m.gNext;
    if (m.gNext === undefined) this.tail = m.gPrev;
    else m.gNext.gPrev = m.gPrev;
    m.gPrev = m.gNext = undefined;
    m.listed = false;
  }
}
