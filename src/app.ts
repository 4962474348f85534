/**
 * The long-lived objects of one bridge process, wired together: MQTT link, store, live feed,
 * policy and subscriptions. main.ts builds one; tests build them the same way.
 */
import type { Catalog } from './catalog/catalog.js';
import type { Config } from './config/load.js';
import { Recorder } from './history/recorder.js';
import type { HistoryBackend } from './history/types.js';
import { wireIngest } from './ingest.js';
import { createAuditLog, type AuditLog } from './logging/audit.js';
import type { Logger } from './logging/logger.js';
import type { Scrubber } from './logging/scrub.js';
import { MqttLink } from './mqtt/client.js';
import { TopicPolicy } from './policy/acl.js';
import { CallLimits } from './policy/call-limits.js';
import { restoreFromHistory } from './sparkplug/from-history.js';
import { SparkplugTracker } from './sparkplug/tracker.js';
import { LiveFeed } from './store/live-feed.js';
import { OfflinePeriods } from './store/offline.js';
import { MessageStore } from './store/message-store.js';
import { Subscriptions } from './subscriptions.js';
import type { ToolDeps } from './tools/deps.js';

/** Payload bytes waiting to be written to history at most (with HISTORY_QUEUE_MAX records). */
export const HISTORY_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

export interface App {
  readonly deps: ToolDeps;
  readonly link: MqttLink;
  /** The topic catalog from now on (SIGHUP). */
  setCatalog(catalog: Catalog): void;
  /** Connect to the broker and start collecting. */
  start(): Promise<void>;
  /** Clean DISCONNECT, bounded. */
  stop(deadlineMs?: number): Promise<void>;
}

export function createApp(
  config: Config,
  logger: Logger,
  scrubber: Scrubber,
  version: string,
  audit: AuditLog = createAuditLog({ scrubber, file: config.auditLogFile }),
  options: {
    readonly inContainer?: boolean;
    /** The opened history backend (HISTORY_PATH); the app records into it and closes it on stop. */
    readonly history?: HistoryBackend;
  } = {},
): App {
  const policy = new TopicPolicy(config.policy);
  const store = new MessageStore(config.store, (topic) => policy.canRead(topic));
  const feed = new LiveFeed();
  const link = new MqttLink({ config: config.mqtt, logger, inContainer: options.inContainer === true });
  const sparkplug = config.sparkplug ? new SparkplugTracker() : undefined;
  const recorder =
    options.history !== undefined && config.history !== undefined
      ? new Recorder(
          options.history,
          {
            topics: config.history.topics,
            maxPayloadBytes: config.history.maxPayloadBytes,
            flushMs: config.history.flushMs,
            queueMax: config.history.queueMax,
            queueMaxBytes: HISTORY_QUEUE_MAX_BYTES,
          },
          logger,
        )
      : undefined;
  wireIngest(link, store, feed, Date.now, sparkplug, recorder);
  const startedAt = Date.now();
  const offline = new OfflinePeriods(startedAt);
  link.onConnection((state) => {
    if (state === 'up') offline.up(Date.now());
    else offline.down(Date.now());
    recorder?.link(state);
  });
  const subscriptions = new Subscriptions(link, config.subscribe, {
    total: config.tools.maxSubscriptions,
    perPrincipal: config.tools.maxSubscriptionsPerClient,
  });
  const deps: ToolDeps = {
    callLimits: new CallLimits(config.tools),
    audit,
    link,
    store,
    feed,
    policy,
    subscriptions,
    sparkplug,
    catalog: { current: config.catalog },
    history:
      recorder !== undefined && options.history !== undefined && config.history !== undefined
        ? { path: config.history.path, backend: options.history, recorder }
        : undefined,
    limits: config.tools,
    logger,
    scrubber,
    now: Date.now,
    version,
    startedAt,
    offline,
    writeScope:
      config.transport === 'http' && config.http.auth.mode === 'oauth'
        ? config.http.auth.writeScope
        : undefined,
  };
  return {
    deps,
    link,
    setCatalog: (catalog) => {
      deps.catalog.current = catalog;
    },
    start: async () => {
      if (options.history !== undefined && sparkplug !== undefined) {
        // A history database that cannot be reached yet must not stop the start: the live tools
        // work without it, and DATA after the next BIRTH resolves anyway.
        const restored = await restoreFromHistory(options.history, sparkplug).catch((error: unknown) => {
          logger.warn({ reason: String(error) }, 'sparkplug: certificates not restored from history');
          return 0;
        });
        if (restored > 0)
          logger.info(
            { certificates: restored },
            'sparkplug: BIRTH and DEATH certificates restored from history',
          );
      }
      recorder?.start();
      link.start();
      await subscriptions.start();
    },
    stop: async (deadlineMs = 2500) => {
      await link.close(deadlineMs);
      if (recorder !== undefined) {
        recorder.link('down');
        await recorder.stop(deadlineMs);
      }
    },
  };
}
