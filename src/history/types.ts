/**
 * The history backend's contract: what the recorder hands it and what the read tools ask of it.
 * SQLite (sqlite-backend.ts, the embedded default) and PostgreSQL implement it; one contract suite
 * (test/history/contract.ts) runs unchanged against each. Every method is asynchronous, so a
 * backend may do its work in a worker thread or over a socket; none blocks the ingest path.
 *
 * Times are epoch milliseconds. Filters are MQTT topic filters. The backend applies the read
 * policy it was opened with to everything it returns: a record made under a wider policy is never
 * returned once its topic is not readable (the current policy rules the past).
 */
import type { MessageProperties } from '../bridge.js';
import type { PolicyRules } from '../policy/acl.js';

/** One collected message as the recorder hands it over. */
export interface HistoryRecord {
  readonly topic: string;
  /** The stored bytes, already cut to maxPayloadBytes (latin1: one char per byte). */
  readonly payload: string;
  /** Size of the payload as received, in bytes (more than payload.length when cut). */
  readonly sizeBytes: number;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly receivedAt: number;
  readonly properties?: MessageProperties | undefined;
  /** The configured broker it came from (several brokers); absent: the one broker, `default`. */
  readonly broker?: string | undefined;
  /** At-least-once recording: the MQTT packet id its PUBACK waits for (see redeliveries.ts). */
  readonly mid?: number | undefined;
  /** With `mid`: the broker resent it (DUP); a copy of a committed record is not written again. */
  readonly redelivered?: boolean | undefined;
}

/** A record as read back. */
export interface RecordedMessage extends HistoryRecord {
  /** True when sizeBytes > the bytes kept. */
  readonly truncated: boolean;
}

/** The bridge's own connection to the broker, recorded so silence can be told from an outage. */
export interface LinkEvent {
  readonly at: number;
  readonly state: 'up' | 'down';
}

export interface HistoryOptions {
  /** File path (SQLite) or connection string (PostgreSQL). */
  readonly location: string;
  /** The read policy; applied to every result. */
  readonly policy: PolicyRules;
  readonly retentionMs: number;
  readonly maxBytes: number;
  /** Payload bytes kept per record. */
  readonly maxPayloadBytes: number;
  /** Numeric fields extracted per message at most. */
  readonly maxFieldsPerMessage: number;
  /** The broker whose history this is (checked against, or recorded in, the store); default `default`. */
  readonly broker?: string;
  /** The MQTT client id whose kept session this records (MQTT_REPLICA_ID): keys its packet ids. */
  readonly session?: string | undefined;
}

export interface RangeQuery {
  readonly filter: string;
  /** Inclusive lower bound. */
  readonly from?: number | undefined;
  /** Exclusive upper bound. */
  readonly to?: number | undefined;
  /** Most records, newest first. */
  readonly limit: number;
}

export interface RangeResult {
  /** Newest first. */
  readonly messages: readonly RecordedMessage[];
  /** More records matched than limit. */
  readonly more: boolean;
}

export interface LatestResult {
  /** The last record of each readable matching topic, newest first. */
  readonly messages: readonly RecordedMessage[];
  /** Readable topics matched (may exceed messages.length when limit cut). */
  readonly matched: number;
}

export interface RecordedTopic {
  readonly topic: string;
  /** Records of the topic still on disk. */
  readonly records: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly lastRetain: boolean;
  readonly lastSizeBytes: number;
}

export interface TopicsResult {
  /** Sorted by topic name. */
  readonly topics: readonly RecordedTopic[];
  readonly matched: number;
}

export interface SummaryQuery {
  readonly filter: string;
  /** Dot path (`temp`, `sensors.0.value`; `` for a payload that is itself a number); undefined: every field. */
  readonly field?: string | undefined;
  readonly from: number;
  readonly to: number;
  /** 1..200; the range [from, to) is split into this many equal buckets. */
  readonly buckets: number;
  /** Most series (topic x field) returned. */
  readonly maxSeries: number;
}

export interface Point {
  readonly at: number;
  readonly value: number;
}

export interface Bucket {
  readonly start: number;
  readonly count: number;
  /** Absent when count is 0. */
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
}

export interface Series {
  readonly topic: string;
  readonly field: string;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly first: Point;
  readonly last: Point;
  readonly buckets: readonly Bucket[];
}

export interface SummaryResult {
  /** Sorted by topic, then field. Only series with at least one point in the range. */
  readonly series: readonly Series[];
  /** More series matched than maxSeries. */
  readonly more: boolean;
}

export interface SilenceQuery {
  readonly filter: string;
  readonly now: number;
  /** Fixed threshold; undefined: per topic, `factor` x its median gap, at least `floorMs`. */
  readonly silentMs?: number | undefined;
  readonly factor: number;
  readonly floorMs: number;
  readonly limit: number;
}

export interface SilentTopic {
  readonly topic: string;
  readonly lastAt: number;
  readonly silentMs: number;
  /** Median gap between the topic's recent records; undefined with fewer than 2. */
  readonly usualIntervalMs: number | undefined;
  /** The threshold it was judged by. */
  readonly thresholdMs: number;
  readonly records: number;
}

export interface SilenceResult {
  /** Longest silent first. */
  readonly silent: readonly SilentTopic[];
  /** Readable topics examined. */
  readonly examined: number;
  readonly more: boolean;
}

export interface OfflinePeriod {
  readonly from: number;
  /** Absent while still offline (as last recorded). */
  readonly to?: number;
}

export type HistoryState =
  | { readonly state: 'recording' }
  | { readonly state: 'paused'; readonly reason: string; readonly since: number };

export interface HistoryStats {
  readonly bytesOnDisk: number;
  readonly records: number;
  /** Undefined when empty. */
  readonly oldestAt: number | undefined;
  readonly topics: number;
  /**
   * Retained messages not written since the store was opened because they repeat the topic's
   * last recorded payload: the broker's replay on (re)subscription, not a new message.
   */
  readonly replaysIgnored: number;
  /** Resent copies (DUP) of records committed before a crash, not written again, since the store was opened. */
  readonly copiesRemoved?: number;
  /** How the records are stored, in operator words (PostgreSQL: partitions or TimescaleDB hypertables). */
  readonly storage?: string;
}

export interface HistoryBackend {
  /** Write one batch in one transaction. Rejects with a HistoryFault when the store cannot write. */
  append(records: readonly HistoryRecord[], events: readonly LinkEvent[]): Promise<void>;
  range(query: RangeQuery): Promise<RangeResult>;
  latest(filter: string, limit: number): Promise<LatestResult>;
  topics(filter: string, limit: number): Promise<TopicsResult>;
  summarize(query: SummaryQuery): Promise<SummaryResult>;
  silent(query: SilenceQuery): Promise<SilenceResult>;
  /** Periods when the bridge was offline overlapping [from, to). */
  offline(from: number, to: number): Promise<readonly OfflinePeriod[]>;
  /** One small pruning step by age and by size; returns records removed (0: nothing to do). */
  prune(now: number): Promise<number>;
  stats(): Promise<HistoryStats>;
  /** A consistent copy of everything recorded at `destination` (mode 0600), while recording goes on. */
  backup?(destination: string): Promise<void>;
  close(): Promise<void>;
}

/** Why history cannot write (disk full, read-only, locked, vanished); the recorder pauses on it. */
export class HistoryFault extends Error {
  constructor(
    readonly kind: 'full' | 'readonly' | 'locked' | 'vanished' | 'io',
    message: string,
  ) {
    super(message);
    this.name = 'HistoryFault';
  }
}

/** A file that is not a history database, is corrupt, or is in use: the bridge exits 1 naming the path. */
export class HistoryOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryOpenError';
  }
}
