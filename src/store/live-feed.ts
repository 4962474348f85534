/**
 * Live delivery of newly stored messages to waiting tool calls. Costs nothing on the ingest
 * path while nobody waits; with waiters, one filter match per waiter per message.
 */
import { topicMatches } from '../mqtt/topic.js';
import type { StoredMessage } from './message-store.js';

export type FeedListener = (message: StoredMessage) => void;

interface Waiter {
  readonly filter: string;
  readonly listener: FeedListener;
}

export class LiveFeed {
  private readonly waiters = new Set<Waiter>();

  get size(): number {
    return this.waiters.size;
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
    if (this.waiters.size === 0) return;
    for (const waiter of this.waiters) {
      if (topicMatches(waiter.filter, message.topic)) waiter.listener(message);
    }
  }
}
