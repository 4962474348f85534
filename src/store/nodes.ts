/**
 * The nodes of the message store: a topic entry, and the stored messages as slots in columns
 * (typed arrays for links, times, sizes and flags; plain arrays for the topic entry, the payload
 * string and the properties). A message is a slot number, not an object: ingest allocates
 * nothing per message but its payload string, which holds no pointers, so the garbage collector
 * neither copies nor traces a graph of message nodes and links while the store is full (it did:
 * that was most of what the store cost ingest). Readers get a MessageView made when they read.
 */
import type { MessageProperties } from '../bridge.js';
import type { StoredMessage } from './types.js';

/** No slot: the end of a list. */
export const NONE = -1;

// Slots.flags: QoS in bits 0-1, then one bit each.
const RETAIN = 4;
/** In the store's lists (a message). */
export const LISTED = 8;
/** Passed by the byte-eviction scan while it was its topic's last-known value. */
export const PASSED = 16;
/** In the store's heap of history the byte-eviction scan passed (also after an eviction). */
export const QUEUED = 32;

export class Entry {
  /** Oldest and newest slot of this topic's list (NONE: empty). */
  head = NONE;
  tail = NONE;
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

/** A stored message as readers see it: a copy of its slot, made when read. */
export class MessageView implements StoredMessage {
  constructor(
    readonly topic: string,
    /** The stored bytes, one latin1 character each. */
    readonly data: string,
    readonly qos: 0 | 1 | 2,
    readonly retain: boolean,
    readonly receivedAt: number,
    readonly sizeBytes: number,
    readonly seq: number,
    readonly properties: MessageProperties | undefined,
  ) {}
  get payload(): Buffer {
    return Buffer.from(this.data, 'latin1');
  }
  get storedBytes(): number {
    return this.data.length;
  }
}

/** Fewest slots the columns keep. */
const MIN_CAPACITY = 1024;

/**
 * The message columns. A slot is free (on the free list, threaded through gNext), a message
 * (LISTED), or evicted while the eviction heap still names it (QUEUED without LISTED: its
 * payload is released, the slot is freed once the heap lets go of it). The columns grow by half
 * when full and shrink when less than half is used (MessageStore.compact), so they never hold
 * more than about twice the slots in use: cost.ts charges each message for two slots.
 */
export class Slots {
  capacity = 0;
  /** Slots in use: messages and evicted slots the heap still names. */
  used = 0;
  /** Slots below this were handed out at least once; the rest were never used. */
  private fresh = 0;
  private freeHead = NONE;
  gPrev = new Int32Array(0);
  gNext = new Int32Array(0);
  tPrev = new Int32Array(0);
  tNext = new Int32Array(0);
  receivedAt = new Float64Array(0);
  seq = new Float64Array(0);
  size = new Int32Array(0);
  flags = new Uint8Array(0);
  entry: Array<Entry | undefined> = [];
  data: string[] = [];
  properties: Array<MessageProperties | undefined> = [];

  constructor() {
    this.resize(MIN_CAPACITY);
  }

  /** A free slot for a new message (its links unset). */
  take(): number {
    let s = this.freeHead;
    if (s !== NONE) this.freeHead = this.gNext[s] as number;
    else {
      if (this.fresh === this.capacity) this.resize(this.capacity + (this.capacity >> 1));
      s = this.fresh++;
    }
    this.used++;
    return s;
  }

  fill(
    s: number,
    entry: Entry,
    data: string,
    qos: 0 | 1 | 2,
    retain: boolean,
    receivedAt: number,
    size: number,
    seq: number,
    properties: MessageProperties | undefined,
  ): void {
    this.entry[s] = entry;
    this.data[s] = data;
    this.properties[s] = properties;
    this.receivedAt[s] = receivedAt;
    this.size[s] = size;
    this.seq[s] = seq;
    this.flags[s] = qos | (retain ? RETAIN : 0);
    this.gPrev[s] = this.gNext[s] = this.tPrev[s] = this.tNext[s] = NONE;
  }

  /** Let go of a slot's payload, properties and topic (an evicted message). */
  clear(s: number): void {
    this.entry[s] = undefined;
    this.data[s] = '';
    this.properties[s] = undefined;
  }

  /** Put a slot back on the free list. */
  release(s: number): void {
    this.clear(s);
    this.flags[s] = 0;
    this.gNext[s] = this.freeHead;
    this.freeHead = s;
    this.used--;
  }

  view(s: number): StoredMessage {
    const f = this.flags[s] as number;
    return new MessageView(
      (this.entry[s] as Entry).topic,
      this.data[s] as string,
      (f & 3) as 0 | 1 | 2,
      (f & RETAIN) !== 0,
      this.receivedAt[s] as number,
      this.size[s] as number,
      this.seq[s] as number,
      this.properties[s],
    );
  }

  /** Whether the columns should shrink: less than half of them in use. */
  get sparse(): boolean {
    return this.capacity > MIN_CAPACITY && this.used * 2 < this.capacity;
  }

  /** The capacity a compaction shrinks to: half again the slots in use. */
  get compactCapacity(): number {
    return Math.max(MIN_CAPACITY, this.used + (this.used >> 1) + 1);
  }

  /** Copy slot `from` into free slot `to` (the caller re-points whatever named `from`). */
  move(from: number, to: number): void {
    this.gPrev[to] = this.gPrev[from] as number;
    this.gNext[to] = this.gNext[from] as number;
    this.tPrev[to] = this.tPrev[from] as number;
    this.tNext[to] = this.tNext[from] as number;
    this.receivedAt[to] = this.receivedAt[from] as number;
    this.seq[to] = this.seq[from] as number;
    this.size[to] = this.size[from] as number;
    this.flags[to] = this.flags[from] as number;
    this.entry[to] = this.entry[from];
    this.data[to] = this.data[from] as string;
    this.properties[to] = this.properties[from];
    this.entry[from] = undefined;
    this.data[from] = '';
    this.properties[from] = undefined;
    this.flags[from] = 0;
  }

  /**
   * After the caller moved every slot in use below `capacity`: cut the columns to it, and
   * rebuild the free list from what is left free below it.
   */
  shrinkTo(capacity: number): void {
    this.resize(capacity);
    this.fresh = capacity;
    this.freeHead = NONE;
    for (let s = capacity - 1; s >= 0; s--) {
      if (this.flags[s] === 0) {
        this.gNext[s] = this.freeHead;
        this.freeHead = s;
      }
    }
  }

  private resize(capacity: number): void {
    const keep = Math.min(capacity, this.capacity);
    const ints = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a.subarray(0, keep));
      return b;
    };
    const floats = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, keep));
      return b;
    };
    this.gPrev = ints(this.gPrev);
    this.gNext = ints(this.gNext);
    this.tPrev = ints(this.tPrev);
    this.tNext = ints(this.tNext);
    this.size = ints(this.size);
    this.receivedAt = floats(this.receivedAt);
    this.seq = floats(this.seq);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags.subarray(0, keep));
    this.flags = flags;
    this.entry = resized(this.entry, capacity, undefined);
    this.data = resized(this.data, capacity, '');
    this.properties = resized(this.properties, capacity, undefined);
    this.capacity = capacity;
  }
}

/** A plain array of exactly `length` items, filled (no holes, so V8 keeps it packed). */
function resized<T>(a: T[], length: number, filler: T): T[] {
  const b = a.slice(0, length); // a copy of a packed array is packed
  for (let i = b.length; i < length; i++) b.push(filler);
  return b;
}
