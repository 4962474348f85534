/**
 * What tools are given: the broker link (by interface), the store, the live feed, the policy,
 * the subscriptions and the limits. Built once by index.ts and shared by every MCP session.
 */
import type { AckStats, BrokerLink } from '../bridge.js';
import type { Catalog } from '../catalog/catalog.js';
import type { RecorderStatus } from '../history/recorder.js';
import type { HistoryBackend } from '../history/types.js';
import type { AuditLog } from '../logging/audit.js';
import type { Logger } from '../logging/logger.js';
import type { Scrubber } from '../logging/scrub.js';
import type { TopicPolicy } from '../policy/acl.js';
import type { CallLimits } from '../policy/call-limits.js';
import type { SparkplugTracker } from '../sparkplug/tracker.js';
import type { LiveFeed } from '../store/live-feed.js';
import type { OfflinePeriods } from '../store/offline.js';
import type { MessageStore } from '../store/message-store.js';
import type { Subscriptions } from '../subscriptions.js';

export interface ToolLimits {
  /** Payload bytes shown per message in results. */
  readonly resultPayloadBytes: number;
  /** Payload bytes in one result, all messages together. */
  readonly resultMaxBytes: number;
  /** Largest payload the agent may publish. */
  readonly publishMaxBytes: number;
  readonly toolTimeoutMs: number;
  readonly allowRetain: boolean;
  readonly allowQos2: boolean;
  /** Filters whose publishes need the user's confirmation. */
  readonly confirmTopics: readonly string[];
}

/** Where the tool boundary reports each call (metrics); optional. */
export interface ToolTelemetry {
  toolCall(tool: string, ms: number, errorCode: string | undefined): void;
}

/** The durable record (HISTORY_PATH), as tools use it. */
export interface HistoryAccess {
  readonly path: string;
  readonly backend: HistoryBackend;
  readonly recorder: {
    /** Store sequence number of the newest message written; later ones are in memory only. */
    readonly writtenSeq: number;
    /** Whether messages of the topic are recorded at all (HISTORY_TOPICS). */
    records(topic: string): boolean;
    status(): RecorderStatus;
  };
  /**
   * At-least-once recording (a replica's kept session, QoS 1 collection): the deferred PUBACKs so
   * far. Undefined when messages are acknowledged on arrival.
   */
  readonly acknowledgements?: () => AckStats;
}

/**
 * One broker's view: `link`, `store`, `policy` and the rest belong to the broker named `broker`;
 * the limits, audit log and catalog are the process's. `brokers` holds every configured broker's
 * view by name (the first is the default of every tool).
 */
export interface ToolDeps {
  /** The broker this view reaches (`default` without MQTT_BROKERS_FILE). */
  readonly broker: string;
  readonly brokers: ReadonlyMap<string, ToolDeps>;
  readonly callLimits: CallLimits;
  readonly audit: AuditLog;
  readonly link: BrokerLink;
  readonly store: MessageStore;
  readonly feed: LiveFeed;
  readonly policy: TopicPolicy;
  readonly subscriptions: Subscriptions;
  /** The operator's topic catalog; replaced as a whole on SIGHUP. */
  readonly catalog: { current: Catalog };
  /** Sparkplug B state (BIRTHs, nodes, devices); undefined with MQTT_SPARKPLUG=off. */
  readonly sparkplug: SparkplugTracker | undefined;
  /** When this process was disconnected from the broker. */
  readonly offline: OfflinePeriods;
  /** Undefined without HISTORY_PATH (memory only). */
  readonly history: HistoryAccess | undefined;
  readonly limits: ToolLimits;
  readonly logger: Logger;
  readonly scrubber: Scrubber;
  readonly now: () => number;
  readonly version: string;
  readonly startedAt: number;
  /** OAuth mode: the scope a token needs for mqtt_publish. */
  readonly writeScope: string | undefined;
  /** Set by the HTTP transport's metrics; absent over stdio. */
  telemetry?: ToolTelemetry;
}
