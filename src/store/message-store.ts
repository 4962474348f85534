/**
 * The in-memory message store: bounded on every axis (topics, messages per topic, total
 * bytes, age), evicting oldest first and counting every drop. Amortised O(1) per message.
 *
 * Layout: each stored message is a node in two doubly linked lists, its topic's list
 * (oldest -> newest) and one global list in receive order, which makes age eviction exact.
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
import { Entry, Msg, MsgList } from './nodes.js';
import { compareTopics, latestOfEach, mergeNewest, scanNewest } from './search.js';
import { TopicIndex } from './topic-index.js';

export type { HeldBasis, StoreLimits, StoredMessage, StoreStats, TopicInfo } from './types.js';
export { compareTopics } from './search.js';

export type AdmitTopic = (topic: string) => boolean;

export class MessageStore {
  private readonly index = new TopicIndex<Entry>();
  private readonly main = new MsgList();
  /** The next message the byte-eviction scan looks at; undefined: the end of `main`. */
  private frontier: Msg | undefined = undefined;
  /** Messages behind the frontier that became history, oldest (lowest seq) first. */
  private readonly lateHistory = new MinHeap<Msg>((a, b) => a.seq < b.seq);
  /**
   * Heap bytes of messages evicted otherwise (per-topic cap, age, topic drop) while in
   * lateHistory, which still refers to them until they are popped or swept out.
   */
  private sweepable = 0;
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
    if (retain && entry !== undefined && isReplayOf(entry, payload, now - this.limits.maxAgeMs)) {
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
    const msg = new Msg(entry, data, qos, retain, now, size, ++this.seq, properties);

    const previous = entry.tail;
    // The former last-known value is history now; if the scan already passed it, queue it.
    if (previous !== undefined && previous.passed) {
      previous.queued = true;
      this.lateHistory.push(previous);
    }
    msg.tPrev = previous;
    if (previous === undefined) entry.head = msg;
    else previous.tNext = msg;
    entry.tail = msg;
    entry.stored++;
    entry.received++;
    entry.lastReceivedAt = now;
    entry.lastRetain = retain;
    entry.lastSizeBytes = size;
    this.main.push(msg);
    if (this.frontier === undefined) this.frontier = msg;
    this.messages++;
    this.received++;
    this.bytes += messageBytes(msg);

    if (entry.stored > this.limits.maxMessagesPerTopic && entry.head !== undefined) {
      this.evict(entry.head);
      this.dropped.perTopic++;
    }
    while (this.bytes + this.index.bytes > this.limits.maxBytes && this.evictForBytes()) this.dropped.bytes++;
    this.pruneAge(now);
    return msg;
  }

  /**
   * Messages matching the filter, newest first: a scan of the receive order for broad
   * `prefix/#` filters when that is cheaper, else a merge of the matching topics (search.ts).
   */
  query(filter: string, options: { limit: number; since?: number; now: number }): StoredMessage[] {
    this.pruneAge(options.now);
    const since = options.since ?? 0;
    return (
      scanNewest(this.index, this.main.tail, filter, options.limit, { since }) ??
      mergeNewest(this.index, filter, options.limit, since)
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
        ? scanNewest(this.index, this.main.tail, filter, options.limit, { lastKnown: true })
        : undefined;
    if (newest !== undefined) return { messages: newest, matched: this.index.countMatches(filter) };
    return latestOfEach(this.index, filter, options.limit);
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
    for (let m = this.main.head; m !== undefined && m.receivedAt < cutoff; m = this.main.head) {
      this.evict(m);
      this.dropped.age++;
    }
  }

  /** Evict one message under byte pressure: the oldest history, else the oldest last-known value. */
  private evictForBytes(): boolean {
    // History that the scan passed while it was a last-known value is the oldest history.
    for (let m = this.lateHistory.peek(); m !== undefined; m = this.lateHistory.peek()) {
      this.lateHistory.pop();
      m.queued = false;
      if (m.listed) {
        this.evict(m);
        return true;
      }
      this.sweepable -= messageBytes(m);
    }
    for (let m = this.frontier; m !== undefined; m = this.frontier) {
      if (m.entry.tail === m) {
        m.passed = true;
        this.frontier = m.gNext;
        continue;
      }
      this.evict(m);
      return true;
    }
    // Only last-known values are left: the oldest goes, and its topic with it (a name without a
    // value would hold on to as many bytes as a value, and keep a newer value from being stored).
    const oldest = this.main.head;
    if (oldest !== undefined) {
      this.evict(oldest);
      if (oldest.entry.stored === 0) this.dropTopic(oldest.entry);
      return true;
    }
    // Only topic names are left; drop the least recently updated topic.
    if (this.lruHead !== undefined) {
      this.dropTopic(this.lruHead);
      return true;
    }
    return false;
  }

  private evict(m: Msg): void {
    if (m === this.frontier) this.frontier = m.gNext;
    this.main.remove(m);
    const e = m.entry;
    if (m.tPrev === undefined) e.head = m.tNext;
    else m.tPrev.tNext = m.tNext;
    if (m.tNext === undefined) e.tail = m.tPrev;
    else m.tNext.tPrev = m.tPrev;
    m.tPrev = m.tNext = undefined;
    if (m.receivedAt > e.lastEvictedAt) e.lastEvictedAt = m.receivedAt;
    if (--e.stored === 0) this.emptyTopics++;
    this.messages--;
    const cost = messageBytes(m);
    this.bytes -= cost;
    // An evicted message may still sit in the heap, keeping its payload alive: sweep them out in
    // bulk once they hold a 64th of what the store counts (amortised O(1) per evicted byte).
    if (m.queued) {
      this.sweepable += cost;
      if (this.sweepable * 64 > this.bytes + this.index.bytes) this.sweep();
    }
  }

  private sweep(): void {
    this.lateHistory.retain((x) => {
      if (x.listed) return true;
      x.queued = false;
      return false;
    });
    this.sweepable = 0;
  }

  private dropTopic(entry: Entry): void {
    for (let m = entry.head; m !== undefined; m = entry.head) this.evict(m);
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
}

/**
 * Is this retained delivery the same message as the topic's last-known value (same bytes, same
 * size), which is still held (received at `cutoff` or later)?
 */
function isReplayOf(entry: Entry, payload: Uint8Array, cutoff: number): boolean {
  const last = entry.tail;
  if (last === undefined || last.receivedAt < cutoff || last.sizeBytes !== payload.byteLength) return false;
  const data = last.data;
  const n = data.length;
  for (let i = 0; i < n; i++) if (data.charCodeAt(i) !== payload[i]) return false;
  return true;
}

/** What a stored message costs on the heap (its payload string, properties and node). */
function messageBytes(m: Msg): number {
  return MESSAGE_BYTES + m.data.length + (m.properties === undefined ? 0 : propertiesBytes(m.properties));
}
