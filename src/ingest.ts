/**
 * The ingest hot path: one broker message -> store (the store applies the read policy once per
 * new topic) -> live feed for waiting calls -> the Sparkplug tracker's queue (a prefix check and a
 * push; it decodes later) -> the history recorder's queue (an append; written in batches later).
 * No parsing, no logging.
 *
 * With a share group a message can come twice, through the shared collection subscription and
 * through a live one (see mqtt/subscriber.ts): the shared copy is stored and recorded (once per
 * group: the broker gives it to one replica), the live copy only reaches waiting calls.
 */
import type { BrokerLink } from './bridge.js';
import type { Recorder } from './history/recorder.js';
import { liveMessage, type LiveFeed } from './store/live-feed.js';
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
    if (message.route === 'live') {
      if (!store.admits(message.topic)) return;
      const { topic, payload, qos, retain, properties } = message;
      feed.deliver(liveMessage(topic, payload, qos, retain, properties, now(), store.limits.maxPayloadBytes));
      return;
    }
    const stored = store.append(
      message.topic,
      message.payload,
      message.qos,
      message.retain,
      message.properties,
      now(),
    );
    if (stored === undefined) return;
    if (message.route !== 'collect') feed.deliver(stored);
    sparkplug?.enqueue(stored);
    recorder?.enqueue(stored, message.hold, message.delivery);
  });
}
