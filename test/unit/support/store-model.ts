/**
 * A deliberately simple reference for MessageStore (arrays and linear scans), used by the
 * randomized model test in message-store.test.ts. It states the intended eviction rules:
 * - a new topic beyond maxTopics drops the least recently updated topic;
 * - a topic beyond maxMessagesPerTopic drops its oldest message;
 * - over maxBytes: the oldest message that is not its topic's last value goes first, then the
 *   oldest last value with its topic, then (only names left) the least recently updated topic;
 * - every message older than maxAgeMs is dropped.
 */
import {
  CHILDREN_BYTES,
  MESSAGE_BYTES,
  NODE_BYTES,
  TOPIC_BYTES,
  VALUE_BYTES,
  textBytes,
} from '../../../src/store/cost.js';
import type { StoreLimits } from '../../../src/store/message-store.js';

/**
 * What the topic index costs for a set of topics, from the definition of a radix trie over
 * levels rather than from the index itself: a node at every level prefix that is a topic or where
 * topics branch (two or more different next levels), labelled with the levels since the nearest
 * such prefix above it; the root costs nothing.
 */
export function indexBytes(topics: Iterable<string>): number {
  const names = new Set(topics);
  const next = new Map<string, Set<string>>(); // level prefix -> the levels that follow it
  for (const topic of names) {
    const levels = topic.split('/');
    for (let k = 1; k < levels.length; k++) {
      const prefix = levels.slice(0, k).join('/');
      let set = next.get(prefix);
      if (set === undefined) next.set(prefix, (set = new Set()));
      set.add(levels[k] as string);
    }
  }
  const isNode = (prefix: string) => names.has(prefix) || (next.get(prefix)?.size ?? 0) >= 2;
  const nodes = new Set([...names, ...[...next.keys()].filter(isNode)]);
  let total = names.size * VALUE_BYTES;
  const withChildren = new Set<string>();
  for (const prefix of nodes) {
    const levels = prefix.split('/');
    let k = levels.length - 1;
    while (k > 0 && !nodes.has(levels.slice(0, k).join('/'))) k--;
    if (k > 0) withChildren.add(levels.slice(0, k).join('/'));
    const label = levels.slice(k);
    total += NODE_BYTES + textBytes(label[0] as string);
    if (label.length > 1) total += textBytes(label.slice(1).join('/'));
  }
  return total + withChildren.size * CHILDREN_BYTES;
}

/** What the store counts for these topics and these stored payload sizes (no properties). */
export function storeBytes(topics: Iterable<string>, payloadSizes: Iterable<number>): number {
  const names = [...topics];
  let total = indexBytes(names);
  for (const name of names) total += TOPIC_BYTES + textBytes(name);
  for (const size of payloadSizes) total += MESSAGE_BYTES + size;
  return total;
}

export interface RefMsg {
  topic: string;
  time: number;
  size: number;
  kept: number;
  seq: number;
}

/** A deliberately simple reference: arrays and linear scans. */
export class ReferenceStore {
  topics = new Map<string, { msgs: RefMsg[]; touched: number; received: number }>();
  dropped = { age: 0, bytes: 0, perTopic: 0, topics: 0, policy: 0 };
  seq = 0;
  touch = 0;
  truncated = 0;
  constructor(readonly limits: StoreLimits) {}

  bytes(): number {
    return storeBytes(
      this.topics.keys(),
      [...this.topics.values()].flatMap((t) => t.msgs.map((m) => m.kept)),
    );
  }

  lruTopic(): string | undefined {
    let best: string | undefined;
    let at = Infinity;
    for (const [name, t] of this.topics) if (t.touched < at) [best, at] = [name, t.touched];
    return best;
  }

  /** The oldest message that is not its topic's last value, else the oldest last value. */
  byteVictim(): RefMsg | undefined {
    let history: RefMsg | undefined;
    let last: RefMsg | undefined;
    for (const t of this.topics.values()) {
      t.msgs.forEach((m, i) => {
        if (i < t.msgs.length - 1) {
          if (history === undefined || m.seq < history.seq) history = m;
        } else if (last === undefined || m.seq < last.seq) last = m;
      });
    }
    return history ?? last;
  }

  remove(m: RefMsg): void {
    const t = this.topics.get(m.topic);
    if (t !== undefined) t.msgs = t.msgs.filter((x) => x !== m);
  }

  append(topic: string, size: number, time: number, admit: (t: string) => boolean): void {
    let t = this.topics.get(topic);
    if (t === undefined) {
      if (!admit(topic)) {
        this.dropped.policy++;
        return;
      }
      if (this.topics.size >= this.limits.maxTopics) {
        this.topics.delete(this.lruTopic() as string);
        this.dropped.topics++;
      }
      t = { msgs: [], touched: 0, received: 0 };
      this.topics.set(topic, t);
    }
    t.touched = ++this.touch;
    t.received++;
    const kept = Math.min(size, this.limits.maxPayloadBytes);
    if (kept < size) this.truncated++;
    t.msgs.push({ topic, time, size, kept, seq: ++this.seq });
    if (t.msgs.length > this.limits.maxMessagesPerTopic) {
      t.msgs.shift();
      this.dropped.perTopic++;
    }
    while (this.bytes() > this.limits.maxBytes) {
      const victim = this.byteVictim();
      if (victim !== undefined) {
        this.remove(victim);
        // A last value goes with its topic.
        if (this.topics.get(victim.topic)?.msgs.length === 0) this.topics.delete(victim.topic);
      } else this.topics.delete(this.lruTopic() as string);
      this.dropped.bytes++;
    }
    this.prune(time);
  }

  prune(now: number): void {
    const cutoff = now - this.limits.maxAgeMs;
    for (const t of this.topics.values()) {
      const before = t.msgs.length;
      t.msgs = t.msgs.filter((m) => m.time >= cutoff);
      this.dropped.age += before - t.msgs.length;
    }
  }

  query(limit: number, since: number, now: number): RefMsg[] {
    this.prune(now);
    return [...this.topics.values()]
      .flatMap((t) => t.msgs)
      .filter((m) => m.time >= since)
      .sort((a, b) => b.time - a.time || b.seq - a.seq)
      .slice(0, limit);
  }
}
