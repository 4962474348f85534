/** The store's public shapes: its limits, a stored message as readers see it, topic and store figures. */
import type { MessageProperties } from '../bridge.js';

export interface StoreLimits {
  readonly maxTopics: number;
  readonly maxMessagesPerTopic: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  /** Payload bytes kept per message; the rest is cut off and the message marked truncated. */
  readonly maxPayloadBytes: number;
}

/** A stored message as readers see it. */
export interface StoredMessage {
  readonly topic: string;
  /** The stored bytes (at most maxPayloadBytes); a fresh Buffer on each access. */
  readonly payload: Buffer;
  /** The stored bytes as a latin1 string, one character per byte (no copy). */
  readonly data: string;
  /** How many bytes are stored (payload.byteLength, without making the Buffer). */
  readonly storedBytes: number;
  readonly qos: 0 | 1 | 2;
  /** True when the broker delivered it from its retained store (it may be old). */
  readonly retain: boolean;
  /** Receive time, epoch milliseconds. */
  readonly receivedAt: number;
  /** Size of the payload as received, in bytes. */
  readonly sizeBytes: number;
  /** Monotonic sequence number, unique per store. */
  readonly seq: number;
  readonly properties: MessageProperties | undefined;
}

/** What the store holds for a set of topics: how many of their messages its bounds dropped, and since when it holds all. */
export interface HeldBasis {
  /** Topics matched. */
  readonly topics: number;
  /** Messages of the matched topics dropped by the store's bounds (age, bytes, per-topic cap). */
  readonly dropped: number;
  /** Receive time of the newest dropped message of the matched topics (epoch ms; 0 when none was dropped). */
  readonly droppedUntil: number;
}

export interface TopicInfo {
  readonly topic: string;
  /** Messages received on the topic since start-up. */
  readonly received: number;
  /** Messages of the topic still in the store. */
  readonly stored: number;
  readonly lastReceivedAt: number;
  readonly lastRetain: boolean;
  readonly lastSizeBytes: number;
}

export interface StoreStats {
  readonly topics: number;
  readonly messages: number;
  readonly bytes: number;
  readonly received: number;
  readonly truncated: number;
  /** Retained replays of a message already held (after a redundant subscribe or a reconnect), not stored again. */
  readonly replaysIgnored: number;
  readonly dropped: {
    readonly age: number;
    readonly bytes: number;
    readonly perTopic: number;
    readonly topics: number;
    readonly policy: number;
  };
}
