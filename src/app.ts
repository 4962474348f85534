/**
 * The long-lived objects of one bridge process, wired together: one set per configured broker
 * (link, store, live feed, policy, subscriptions, history recorder: brokers.ts) and the
 * process-wide ones (call limits, audit log, catalog). main.ts builds one; tests build them the
 * same way.
 */
import { createBroker, type Broker } from './brokers.js';
import type { Catalog } from './catalog/catalog.js';
import type { Config } from './config/load.js';
import type { HistoryBackend } from './history/types.js';
import { createAuditLog, type AuditLog } from './logging/audit.js';
import type { Logger } from './logging/logger.js';
import type { Scrubber } from './logging/scrub.js';
import type { MqttLink } from './mqtt/client.js';
import { CallLimits } from './policy/call-limits.js';
import type { ToolDeps } from './tools/deps.js';

export { HISTORY_QUEUE_MAX_BYTES } from './brokers.js';

export interface App {
  /** The first (default) broker's tool dependencies; `deps.brokers` has every broker's. */
  readonly deps: ToolDeps;
  /** The first (default) broker's link. */
  readonly link: MqttLink;
  /** Every configured broker, in configuration order. */
  readonly brokers: readonly Broker[];
  /** The topic catalog from now on (SIGHUP). */
  setCatalog(catalog: Catalog): void;
  /** Connect to the brokers and start collecting. */
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
    /** A history backend for the first broker (tests), instead of its entry in brokerHistory. */
    readonly history?: HistoryBackend;
    /** Each broker's history backend, by name, with where it records; the app closes them on stop. */
    readonly brokerHistory?: ReadonlyMap<string, { backend: HistoryBackend; path: string }>;
  } = {},
): App {
  const startedAt = Date.now();
  const several = config.brokers.length > 1;
  const brokers = config.brokers.map((broker, index) => {
    const other = options.brokerHistory?.get(broker.name);
    return createBroker(broker, config, several ? logger.child({ broker: broker.name }) : logger, {
      inContainer: options.inContainer === true,
      startedAt,
      history: (index === 0 ? options.history : undefined) ?? other?.backend,
      historyAt: index === 0 && options.history !== undefined ? undefined : other,
    });
  });
  const byName = new Map<string, ToolDeps>();
  const shared = {
    callLimits: new CallLimits(config.tools),
    audit,
    catalog: { current: config.catalog },
    limits: config.tools,
    logger,
    scrubber,
    now: Date.now,
    version,
    startedAt,
    brokers: byName,
    writeScope:
      config.transport === 'http' && config.http.auth.mode === 'oauth'
        ? config.http.auth.writeScope
        : undefined,
  };
  for (const b of brokers) {
    byName.set(b.name, {
      ...shared,
      broker: b.name,
      link: b.link,
      store: b.store,
      feed: b.feed,
      policy: b.policy,
      subscriptions: b.subscriptions,
      sparkplug: b.sparkplug,
      offline: b.offline,
      history: b.history,
    });
  }
  const first = brokers[0] as Broker;
  const deps = byName.get(first.name) as ToolDeps;
  return {
    deps,
    link: first.link,
    brokers,
    setCatalog: (catalog) => {
      shared.catalog.current = catalog;
    },
    start: async () => {
      await Promise.all(brokers.map((b) => b.start()));
    },
    stop: async (deadlineMs = 2500) => {
      await Promise.all(brokers.map((b) => b.stop(deadlineMs)));
    },
  };
}
