/**
 * The ingest hot path: one broker message -> store (the store applies the read policy once per
 * new topic) -> live feed for waiting calls -> the Sparkplug tracker's queue (a prefix check and a
 * push; it decodes later) -> the history recorder's queue (an append; written in batches later).
 * No parsing, no logging.
 */
import type { BrokerLink } from './bridge.js';
import type { Recorder } from './history/recorder.js';
import type { LiveFeed } from './store/live-feed.js';
import type { SparkplugTracker } from './sparkplug/tracker.js';
import type { MessageStore } from './store/message-store.js';

export function wireIngest(
  link: BrokerLink,
  store: MessageStore,
  feed: LiveFeed,
  now: () => number = Date.now,
  sparkplug?: SparkplugTracker,
  recorder?: Recorder,
): void {
  link.onMessage((message) => {
    const stored = store.append(
      message.topic,
      message.payload,
      message.qos,
      message.retain,
      message.properties,
      now(),
    );
    if (stored === undefined) return;
    feed.deliver(stored);
    sparkplug?.enqueue(stored);
    recorder?.enqueue(stored);
  });
}
