/**
 * One named broker's long-lived objects: its mqtt.js link, store, live feed, policy,
 * subscriptions, Sparkplug tracker, offline periods and history recorder. app.ts builds one per
 * configured broker; nothing is shared between two brokers but the process-wide limits, so a topic
 * allowed on one says nothing about another.
 */
import type { BrokerConfig, Config } from './config/load.js';
import { Recorder } from './history/recorder.js';
import type { HistoryBackend } from './history/types.js';
import { wireIngest } from './ingest.js';
import type { Logger } from './logging/logger.js';
import { MqttLink } from './mqtt/client.js';
import { TopicPolicy } from './policy/acl.js';
import { restoreFromHistory } from './sparkplug/from-history.js';
import { SparkplugTracker } from './sparkplug/tracker.js';
import { LiveFeed } from './store/live-feed.js';
import { MessageStore } from './store/message-store.js';
import { OfflinePeriods } from './store/offline.js';
import { Subscriptions } from './subscriptions.js';
import type { HistoryAccess } from './tools/deps.js';

/** Payload bytes waiting to be written to history at most (with HISTORY_QUEUE_MAX records), per broker. */
export const HISTORY_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

export interface Broker {
  readonly name: string;
  readonly link: MqttLink;
  readonly store: MessageStore;
  readonly feed: LiveFeed;
  readonly policy: TopicPolicy;
  readonly subscriptions: Subscriptions;
  readonly sparkplug: SparkplugTracker | undefined;
  readonly offline: OfflinePeriods;
  readonly history: HistoryAccess | undefined;
  /** Connect and start collecting (after restoring Sparkplug state from history). */
  start(): Promise<void>;
  /** Clean DISCONNECT, then the last history batch; bounded. */
  stop(deadlineMs: number): Promise<void>;
}

export function createBroker(
  broker: BrokerConfig,
  config: Config,
  logger: Logger,
  options: {
    readonly inContainer: boolean;
    readonly startedAt: number;
    /** This broker's history backend (its own file or database scope). */
    readonly history?: HistoryBackend | undefined;
    /**
     * Where that backend records, as shown (default HISTORY_PATH or the database URL); read each
     * time, as a PostgreSQL schema is chosen at the first connection.
     */
    readonly historyAt?: { readonly path: string } | undefined;
  },
): Broker {
  const policy = new TopicPolicy(broker.policy);
  const store = new MessageStore(config.store, (topic) => policy.canRead(topic));
  const feed = new LiveFeed();
  const backend = options.history;
  // At-least-once recording: with a session the broker keeps (MQTT_REPLICA_ID) and QoS 1
  // collection, a message is acknowledged only once history has committed it.
  const deferAcks =
    backend !== undefined &&
    config.history !== undefined &&
    broker.mqtt.replica.sessionExpirySeconds > 0 &&
    broker.mqtt.subscribeQos === 1;
  const link = new MqttLink({ config: broker.mqtt, logger, inContainer: options.inContainer, deferAcks });
  const sparkplug = config.sparkplug ? new SparkplugTracker() : undefined;
  const recorder =
    backend !== undefined && config.history !== undefined
      ? new Recorder(
          backend,
          {
            topics: config.history.topics,
            maxPayloadBytes: config.history.maxPayloadBytes,
            flushMs: config.history.flushMs,
            queueMax: config.history.queueMax,
            queueMaxBytes: HISTORY_QUEUE_MAX_BYTES,
            // A full queue of held records pauses the link instead of acknowledging one unwritten.
            ...(deferAcks ? { intake: link } : {}),
          },
          logger,
        )
      : undefined;
  wireIngest(link, store, feed, Date.now, sparkplug, recorder);
  const offline = new OfflinePeriods(options.startedAt);
  link.onConnection((state) => {
    if (state === 'up') offline.up(Date.now());
    else offline.down(Date.now());
    recorder?.link(state);
  });
  const subscriptions = new Subscriptions(link, broker.subscribe, {
    total: config.tools.maxSubscriptions,
    perPrincipal: config.tools.maxSubscriptionsPerClient,
  });
  return {
    name: broker.name,
    link,
    store,
    feed,
    policy,
    subscriptions,
    sparkplug,
    offline,
    history:
      recorder !== undefined && backend !== undefined && config.history !== undefined
        ? {
            get path() {
              return options.historyAt?.path ?? config.history?.path ?? '';
            },
            backend,
            recorder,
            ...(deferAcks ? { acknowledgements: () => link.ackStats() } : {}),
          }
        : undefined,
    start: async () => {
      if (backend !== undefined && sparkplug !== undefined) {
        // A history database that cannot be reached yet must not stop the start: the live tools
        // work without it, and DATA after the next BIRTH resolves anyway.
        const restored = await restoreFromHistory(backend, sparkplug).catch((error: unknown) => {
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
    stop: async (deadlineMs) => {
      // Commit what is queued while the connection is up, so its acknowledgements go out.
      if (deferAcks) await recorder?.drain(deadlineMs);
      await link.close(deadlineMs);
      if (recorder !== undefined) {
        recorder.link('down');
        await recorder.stop(deadlineMs);
      }
    },
  };
}
