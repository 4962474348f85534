/**
 * The nodes of the message store: a topic entry, a stored message (threaded through its
 * topic's list and the global receive-order list), and the global list itself.
 */
import type { MessageProperties } from '../bridge.js';
import type { StoredMessage } from './types.js';

export const LIST_NONE = 0;
export const LIST_MAIN = 1;

export class Entry {
  head: Msg | undefined = undefined;
  tail: Msg | undefined = undefined;
  stored = 0;
  received = 0;
  lastReceivedAt = 0;
  lastRetain = false;
  lastSizeBytes = 0;
  uPrev: Entry | undefined = undefined;
  uNext: Entry | undefined = undefined;
  constructor(
    readonly topic: string,
    readonly topicBytes: number,
  ) {}
}

export class Msg implements StoredMessage {
  gPrev: Msg | undefined = undefined;
  gNext: Msg | undefined = undefined;
  tPrev: Msg | undefined = undefined;
  tNext: Msg | undefined = undefined;
  list = LIST_NONE;
  /** Passed by the byte-eviction scan while it was its topic's last-known value. */
  passed = false;
  constructor(
    readonly entry: Entry,
    readonly payload: Buffer,
    readonly qos: 0 | 1 | 2,
    readonly retain: boolean,
    readonly receivedAt: number,
    readonly sizeBytes: number,
    readonly seq: number,
    readonly properties: MessageProperties | undefined,
  ) {}
  get topic(): string {
    return this.entry.topic;
  }
}

/** A doubly linked list threaded through Msg.gPrev/gNext. */
export class MsgList {
  head: Msg | undefined = undefined;
  tail: Msg | undefined = undefined;
  constructor(readonly id: number) {}

  push(m: Msg): void {
    m.list = this.id;
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
    m.list = LIST_NONE;
  }
}
