/**
 * Live delivery of newly stored messages to waiting tool calls and resource subscriptions. Costs
 * nothing on the ingest path while nobody waits; with waiters, one filter match per waiter per
 * message; resource subscriptions are by exact topic, one map lookup per message.
 */
import { topicMatches } from '../mqtt/topic.js';
import type { MessageProperties } from '../bridge.js';
import type { StoredMessage } from './message-store.js';

export type FeedListener = (message: StoredMessage) => void;

interface Waiter {
  readonly filter: string;
  readonly listener: FeedListener;
}

export class LiveFeed {
  private readonly waiters = new Set<Waiter>();
  /** Listeners of one exact topic (resource subscriptions): one map lookup per message. */
  private readonly byTopic = new Map<string, Set<FeedListener>>();

  get size(): number {
    return this.waiters.size + this.byTopic.size;
  }

  /** Listen for messages on one exact topic; returns the function that stops listening. */
  listenTopic(topic: string, listener: FeedListener): () => void {
    let set = this.byTopic.get(topic);
    if (set === undefined) {
      set = new Set();
      this.byTopic.set(topic, set);
    }
    set.add(listener);
    return () => {
      const current = this.byTopic.get(topic);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.byTopic.delete(topic);
    };
  }

  /** Listen for messages matching the filter; returns the function that stops listening. */
  listen(filter: string, listener: FeedListener): () => void {
    const waiter: Waiter = { filter, listener };
    this.waiters.add(waiter);
    return () => {
      this.waiters.delete(waiter);
    };
  }

  deliver(message: StoredMessage): void {
    if (this.byTopic.size > 0) {
      const exact = this.byTopic.get(message.topic);
      if (exact !== undefined) for (const listener of exact) listener(message);
    }
    if (this.waiters.size === 0) return;
    for (const waiter of this.waiters) {
      if (topicMatches(waiter.filter, message.topic)) waiter.listener(message);
    }
  }
}

/**
 * A message shown to live listeners without being stored (with a share group, the copy of a live
 * subscription: its shared copy, if this replica got it, is the one stored). Cut like a stored one.
 */
export function liveMessage(
  topic: string,
  payload: Uint8Array,
  qos: 0 | 1 | 2,
  retain: boolean,
  properties: MessageProperties | undefined,
  receivedAt: number,
  maxPayloadBytes: number,
): StoredMessage {
  const sizeBytes = payload.byteLength;
  const data = Buffer.from(payload.buffer, payload.byteOffset, Math.min(sizeBytes, maxPayloadBytes)).toString(
    'latin1',
  );
  return {
    topic,
    get payload() {
      return Buffer.from(data, 'latin1');
    },
    data,
    storedBytes: data.length,
    qos,
    retain,
    receivedAt,
    sizeBytes,
    seq: 0,
    properties,
  };
}
