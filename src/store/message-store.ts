/**
 * The in-memory message store: bounded on every axis (topics, messages per topic, total
 * bytes, age), evicting oldest first and counting every drop. Amortised O(1) per message.
 *
 * Layout: each stored message is a slot in columns (nodes.ts: no object per message), linked
 * into two doubly linked lists by slot number, its topic's list (oldest -> newest) and one global
 * list in receive order, which makes age eviction exact.
 * A topic's latest message is its last-known value; byte pressure evicts the oldest history
 * first and a last-known value (with its topic) only when no history is left. To find the
 * oldest history without rescanning last-known values, a scan frontier walks the global list
 * once: messages behind it were last-known values when passed, and those that have since become
 * history wait in a small min-heap by sequence number.
 * Topics themselves sit in a least-recently-updated list for the topic cap, and in a trie
 * (TopicIndex) for wildcard queries.
 * The byte limit counts what all of it costs on the heap (cost.ts): payloads, properties, topic
 * names, the index, and a fixed cost per message and per topic.
 */
import type { MessageProperties } from '../bridge.js';
import type { HeldBasis, StoreLimits, StoredMessage, StoreStats, TopicInfo } from './types.js';
import { MESSAGE_BYTES, TOPIC_BYTES, propertiesBytes, textBytes } from './cost.js';
import { MinHeap } from './heap.js';
import { Entry, LISTED, NONE, PASSED, QUEUED, Slots } from './nodes.js';
import { compareTopics, latestOfEach, mergeNewest, scanNewest } from './search.js';
import { TopicIndex } from './topic-index.js';

export type { HeldBasis, StoreLimits, StoredMessage, StoreStats, TopicInfo } from './types.js';
export { compareTopics } from './search.js';

export type AdmitTopic = (topic: string) => boolean;

export class MessageStore {
  private readonly index = new TopicIndex<Entry>();
  private readonly slots = new Slots();
  /** Oldest and newest message in receive order (the global list). */
  private mainHead = NONE;
  private mainTail = NONE;
  /** The next message the byte-eviction scan looks at; NONE: the end of the global list. */
  private frontier = NONE;
  /** Messages behind the frontier that became history, oldest (lowest seq) first. */
  private readonly lateHistory = new MinHeap<number>(
    (a, b) => (this.slots.seq[a] as number) < (this.slots.seq[b] as number),
  );
  /**
   * Slots of messages evicted otherwise (per-topic cap, age, topic drop) while in lateHistory,
   * which still names them until they are popped or swept out (their payloads are let go at once).
   */
  private zombies = 0;
  private lruHead: Entry | undefined = undefined;
  private lruTail: Entry | undefined = undefined;
  private seq = 0;
  /** Heap bytes of messages and topic entries; the index counts its own (index.bytes). */
  private bytes = 0;
  private messages = 0;
  private received = 0;
  private truncatedCount = 0;
  private replaysIgnored = 0;
  /** Topics still known but with no message stored (their history aged out or was evicted). */
  private emptyTopics = 0;
  private readonly dropped = { age: 0, bytes: 0, perTopic: 0, topics: 0, policy: 0 };

  /**
   * @param admit called once per topic not yet in the store; false drops the message
   *   (counted as a policy drop). This is where the read policy is enforced on ingest.
   */
  constructor(
    readonly limits: StoreLimits,
    private readonly admit: AdmitTopic = () => true,
  ) {}

  /** Whether the read policy admits the topic (for a message shown live without being stored). */
  admits(topic: string): boolean {
    return this.admit(topic);
  }

  /**
   * The ingest hot path. Returns the stored message, or undefined if it was not admitted or was
   * a retained replay of the topic's last-known value (a redundant subscribe or a reconnect makes
   * the broker send its retained message again: it is not a new message, and storing it would
   * give an old value a new receive time).
   */
  append(
    topic: string,
    payload: Uint8Array,
    qos: 0 | 1 | 2,
    retain: boolean,
    properties: MessageProperties | undefined,
    now: number,
  ): StoredMessage | undefined {
    let entry = this.index.get(topic);
    if (retain && entry !== undefined && this.isReplayOf(entry, payload, now - this.limits.maxAgeMs)) {
      this.replaysIgnored++;
      return undefined;
    }
    if (entry === undefined) {
      if (!this.admit(topic)) {
        this.dropped.policy++;
        return undefined;
      }
      if (this.index.size >= this.limits.maxTopics && this.lruHead !== undefined) {
        this.dropTopic(this.lruHead);
        this.dropped.topics++;
      }
      entry = new Entry(topic, TOPIC_BYTES + textBytes(topic));
      this.index.set(topic, entry);
      this.bytes += entry.cost;
    } else {
      this.lruRemove(entry);
      if (entry.stored === 0) this.emptyTopics--;
    }
    this.lruPush(entry);

    const size = payload.byteLength;
    const keep = Math.min(size, this.limits.maxPayloadBytes);
    if (keep < size) this.truncatedCount++;
    // A latin1 string is a copy (the parser's buffer is a view into a socket chunk that must not
    // be retained) and costs less memory than a Buffer object per message.
    const data = Buffer.isBuffer(payload)
      ? payload.toString('latin1', 0, keep)
      : Buffer.from(payload.buffer, payload.byteOffset, keep).toString('latin1');
    const s = this.slots.take();
    const sl = this.slots; // after take(), which may have replaced the columns
    sl.fill(s, entry, data, qos, retain, now, size, ++this.seq, properties);
    const stored = sl.view(s);

    const previous = entry.tail;
    // The former last-known value is history now; if the scan already passed it, queue it.
    if (previous !== NONE && ((sl.flags[previous] as number) & PASSED) !== 0) {
      sl.flags[previous] = (sl.flags[previous] as number) | QUEUED;
      this.lateHistory.push(previous);
    }
    sl.tPrev[s] = previous;
    if (previous === NONE) entry.head = s;
    else sl.tNext[previous] = s;
    entry.tail = s;
    entry.stored++;
    entry.received++;
    entry.lastReceivedAt = now;
    entry.lastRetain = retain;
    entry.lastSizeBytes = size;
    sl.flags[s] = (sl.flags[s] as number) | LISTED;
    sl.gPrev[s] = this.mainTail;
    if (this.mainTail === NONE) this.mainHead = s;
    else sl.gNext[this.mainTail] = s;
    this.mainTail = s;
    if (this.frontier === NONE) this.frontier = s;
    this.messages++;
    this.received++;
    this.bytes += this.messageBytes(s);

    if (entry.stored > this.limits.maxMessagesPerTopic && entry.head !== NONE) {
      this.evict(entry.head);
      this.dropped.perTopic++;
    }
    while (this.bytes + this.index.bytes > this.limits.maxBytes && this.evictForBytes()) this.dropped.bytes++;
    this.pruneAge(now);
    return stored;
  }

  /**
   * Messages matching the filter, newest first: a scan of the receive order for broad
   * `prefix/#` filters when that is cheaper, else a merge of the matching topics (search.ts).
   */
  query(filter: string, options: { limit: number; since?: number; now: number }): StoredMessage[] {
    this.pruneAge(options.now);
    const since = options.since ?? 0;
    return (
      scanNewest(this.index, this.slots, this.mainTail, filter, options.limit, { since }) ??
      mergeNewest(this.index, this.slots, filter, options.limit, since)
    );
  }

  /** The last stored message of each matching topic, newest first, and how many topics matched. */
  latest(
    filter: string,
    options: { limit: number; now: number },
  ): { messages: StoredMessage[]; matched: number } {
    this.pruneAge(options.now);
    // The scan takes the count of matching topics from the index, which also holds empty topics.
    const newest =
      this.emptyTopics === 0
        ? scanNewest(this.index, this.slots, this.mainTail, filter, options.limit, { lastKnown: true })
        : undefined;
    if (newest !== undefined) return { messages: newest, matched: this.index.countMatches(filter) };
    return latestOfEach(this.index, this.slots, filter, options.limit);
  }
  /**
   * Known topics matching any of the filters, in tree order (level by level, each sorted by
   * name), and how many matched in all. One filter costs about what it returns.
   */
  topics(
    filters: readonly string[],
    options: { limit: number; now: number },
  ): { topics: TopicInfo[]; matched: number } {
    this.pruneAge(options.now);
    let chosen: Entry[];
    let matched: number;
    if (filters.length === 1) {
      const filter = filters[0] as string;
      chosen = this.index.matchSorted(filter, options.limit);
      matched = this.index.countMatches(filter);
    } else {
      const all = new Set<Entry>();
      for (const filter of filters) this.index.match(filter, (entry) => all.add(entry));
      matched = all.size;
      chosen = [...all].sort((a, b) => compareTopics(a.topic, b.topic)).slice(0, options.limit);
    }
    return {
      topics: chosen.map((e) => ({
        topic: e.topic,
        received: e.received,
        stored: e.stored,
        lastReceivedAt: e.lastReceivedAt,
        lastRetain: e.lastRetain,
        lastSizeBytes: e.lastSizeBytes,
      })),
      matched,
    };
  }

  /**
   * How much of the matching topics the store still holds: the messages its bounds dropped and
   * the receive time of the newest dropped one (all messages received after it are held).
   */
  held(filters: readonly string[], now: number): HeldBasis {
    this.pruneAge(now);
    let topics = 0;
    let dropped = 0;
    let droppedUntil = 0;
    const seen = filters.length > 1 ? new Set<Entry>() : undefined;
    for (const filter of filters) {
      this.index.match(filter, (e) => {
        if (seen !== undefined) {
          if (seen.has(e)) return;
          seen.add(e);
        }
        topics++;
        dropped += e.received - e.stored;
        if (e.lastEvictedAt > droppedUntil) droppedUntil = e.lastEvictedAt;
      });
    }
    return { topics, dropped, droppedUntil };
  }

  /** The message columns' size and the slots in use (tests and benchmarks: they grow and shrink). */
  columns(): { capacity: number; used: number } {
    return { capacity: this.slots.capacity, used: this.slots.used };
  }

  /** Newest sequence number handed out so far (0 before the first message). */
  get lastSeq(): number {
    return this.seq;
  }

  stats(now: number): StoreStats {
    this.pruneAge(now);
    return {
      topics: this.index.size,
      messages: this.messages,
      bytes: this.bytes + this.index.bytes,
      received: this.received,
      truncated: this.truncatedCount,
      replaysIgnored: this.replaysIgnored,
      dropped: { ...this.dropped },
    };
  }

  /** Drop messages older than the age limit. Cheap when nothing is due. */
  pruneAge(now: number): void {
    const cutoff = now - this.limits.maxAgeMs;
    for (
      let m = this.mainHead;
      m !== NONE && (this.slots.receivedAt[m] as number) < cutoff;
      m = this.mainHead
    ) {
      this.evict(m);
      this.dropped.age++;
    }
    if (this.slots.sparse) this.compact();
  }

  /** Evict one message under byte pressure: the oldest history, else the oldest last-known value. */
  private evictForBytes(): boolean {
    const sl = this.slots;
    // History that the scan passed while it was a last-known value is the oldest history.
    for (let m = this.lateHistory.peek(); m !== undefined; m = this.lateHistory.peek()) {
      this.lateHistory.pop();
      sl.flags[m] = (sl.flags[m] as number) & ~QUEUED;
      if (((sl.flags[m] as number) & LISTED) !== 0) {
        this.evict(m);
        return true;
      }
      this.zombies--;
      sl.release(m);
    }
    for (let m = this.frontier; m !== NONE; m = this.frontier) {
      if ((sl.entry[m] as Entry).tail === m) {
        sl.flags[m] = (sl.flags[m] as number) | PASSED;
        this.frontier = sl.gNext[m] as number;
        continue;
      }
      this.evict(m);
      return true;
    }
    // Only last-known values are left: the oldest goes, and its topic with it (a name without a
    // value would hold on to as many bytes as a value, and keep a newer value from being stored).
    const oldest = this.mainHead;
    if (oldest !== NONE) {
      const entry = sl.entry[oldest] as Entry;
      this.evict(oldest);
      if (entry.stored === 0) this.dropTopic(entry);
      return true;
    }
    // Only topic names are left; drop the least recently updated topic.
    if (this.lruHead !== undefined) {
      this.dropTopic(this.lruHead);
      return true;
    }
    return false;
  }

  private evict(m: number): void {
    const sl = this.slots;
    if (m === this.frontier) this.frontier = sl.gNext[m] as number;
    const e = sl.entry[m] as Entry;
    this.repoint(
      m,
      sl.gNext[m] as number,
      sl.gPrev[m] as number,
      sl.tNext[m] as number,
      sl.tPrev[m] as number,
    );
    const receivedAt = sl.receivedAt[m] as number;
    if (receivedAt > e.lastEvictedAt) e.lastEvictedAt = receivedAt;
    if (--e.stored === 0) this.emptyTopics++;
    this.messages--;
    this.bytes -= this.messageBytes(m);
    const flags = sl.flags[m] as number;
    if ((flags & QUEUED) === 0) {
      sl.release(m);
      return;
    }
    // The heap still names the slot: let go of its payload now, of the slot once the heap lets go
    // of it; sweep them out in bulk once they hold a 64th of what the store counts.
    sl.flags[m] = flags & ~LISTED;
    sl.clear(m);
    this.zombies++;
    if (this.zombies * MESSAGE_BYTES * 64 > this.bytes + this.index.bytes) this.sweep();
  }

  private sweep(): void {
    const sl = this.slots;
    this.lateHistory.retain((x) => {
      if (((sl.flags[x] as number) & LISTED) !== 0) return true;
      sl.release(x);
      return false;
    });
    this.zombies = 0;
  }

  /**
   * Shrink the columns to half again the slots in use: every message in a slot past the new end
   * moves to a free slot below it, and whatever named it (its neighbours in both lists, its
   * topic's ends, the frontier, the heap) is re-pointed. O(capacity), after at least a third of
   * it was let go since the columns last changed size, so amortised O(1) per message.
   */
  private compact(): void {
    if (this.zombies > 0) this.sweep();
    const sl = this.slots;
    const capacity = sl.compactCapacity;
    if (capacity >= sl.capacity) return;
    const moved = new Int32Array(sl.capacity - capacity).fill(NONE);
    let hole = 0;
    for (let from = capacity; from < sl.capacity; from++) {
      if (sl.flags[from] === 0) continue;
      while (sl.flags[hole] !== 0) hole++;
      const to = hole++;
      sl.move(from, to);
      moved[from - capacity] = to;
      this.repoint(to, to, to, to, to);
      if (this.frontier === from) this.frontier = to;
    }
    this.lateHistory.remap((x) => (x >= capacity ? (moved[x - capacity] as number) : x));
    sl.shrinkTo(capacity);
  }

  /**
   * Point what is next to slot `s` at other slots: its predecessor in receive order (or the list's
   * head) at `gAfter`, its successor (or the tail) at `gBefore`, and likewise in its topic's list
   * (or the topic's ends). Unlinking passes s's own neighbours; moving s passes its new slot.
   */
  private repoint(s: number, gAfter: number, gBefore: number, tAfter: number, tBefore: number): void {
    const sl = this.slots;
    const gPrev = sl.gPrev[s] as number;
    const gNext = sl.gNext[s] as number;
    if (gPrev === NONE) this.mainHead = gAfter;
    else sl.gNext[gPrev] = gAfter;
    if (gNext === NONE) this.mainTail = gBefore;
    else sl.gPrev[gNext] = gBefore;
    const e = sl.entry[s] as Entry;
    const tPrev = sl.tPrev[s] as number;
    const tNext = sl.tNext[s] as number;
    if (tPrev === NONE) e.head = tAfter;
    else sl.tNext[tPrev] = tAfter;
    if (tNext === NONE) e.tail = tBefore;
    else sl.tPrev[tNext] = tBefore;
  }

  private dropTopic(entry: Entry): void {
    for (let m = entry.head; m !== NONE; m = entry.head) this.evict(m);
    this.emptyTopics--;
    this.lruRemove(entry);
    this.index.delete(entry.topic);
    this.bytes -= entry.cost;
  }

  private lruPush(e: Entry): void {
    e.uPrev = this.lruTail;
    e.uNext = undefined;
    if (this.lruTail === undefined) this.lruHead = e;
    else this.lruTail.uNext = e;
    this.lruTail = e;
  }

  private lruRemove(e: Entry): void {
    if (e.uPrev === undefined) this.lruHead = e.uNext;
    else e.uPrev.uNext = e.uNext;
    if (e.uNext === undefined) this.lruTail = e.uPrev;
    else e.uNext.uPrev = e.uPrev;
    e.uPrev = e.uNext = undefined;
  }

  /**
   * Is this retained delivery the same message as the topic's last-known value (same bytes, same
   * size), which is still held (received at `cutoff` or later)?
   */
  private isReplayOf(entry: Entry, payload: Uint8Array, cutoff: number): boolean {
    const last = entry.tail;
    const sl = this.slots;
    if (last === NONE || (sl.receivedAt[last] as number) < cutoff || sl.size[last] !== payload.byteLength)
      return false;
    const data = sl.data[last] as string;
    const n = data.length;
    for (let i = 0; i < n; i++) if (data.charCodeAt(i) !== payload[i]) return false;
    return true;
  }

  /** What a stored message costs (its payload string, properties and two slots of the columns). */
  private messageBytes(s: number): number {
    const properties = this.slots.properties[s];
    return (
      MESSAGE_BYTES +
      (this.slots.data[s] as string).length +
      (properties === undefined ? 0 : propertiesBytes(properties))
    );
  }
}
