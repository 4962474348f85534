/**
 * loadConfig(env, readFile) -> Config. Collects every problem before failing, names the
 * variable in each, and never includes a secret value or file content in a message.
 */
import { Catalog, parseCatalog } from '../catalog/catalog.js';
import { ConfigError } from '../errors.js';
import type { Connection, ReadFile } from './broker-connection.js';
import { brokerEntries } from './brokers.js';
import { historyConfig, type HistoryConfig } from './history-config.js';
import { httpConfig, type HttpConfig } from './http-config.js';
import { labelProblems } from './labels.js';
import { replicaConfig, type ReplicaConfig } from './replica-config.js';
import { fileErrorReason, parseEnv, withSecrets } from './parse.js';
import type { Env } from './schema.js';

export type { HttpAuth, HttpConfig } from './http-config.js';
export type { HistoryConfig, PostgresConfig } from './history-config.js';
export { configErrorSecrets } from './parse.js';

export type { ReadFile } from './broker-connection.js';

/** One broker's link settings: its connection (broker-connection.ts) and the shared timing. */
export interface MqttConfig {
  /** The broker URL as shown to people: scheme, host, port (and the WebSocket path) only. */
  readonly url: string;
  readonly protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  /** TLS is used (mqtts:// or wss://). */
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** The HTTP path of a WebSocket URL (ws://, wss://); undefined for mqtt(s)://. */
  readonly path: string | undefined;
  /** `auto`: 5 first, 3.1.1 when the broker refuses 5 (see mqtt/client.ts). */
  readonly protocolVersion: 4 | 5 | 'auto';
  readonly clientIdPrefix: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: {
    readonly ca: Buffer | undefined;
    readonly cert: Buffer | undefined;
    readonly key: Buffer | undefined;
    readonly passphrase: string | undefined;
    readonly servername: string | undefined;
    readonly insecure: boolean;
  };
  readonly keepaliveSeconds: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly publishTimeoutMs: number;
  readonly maxPacketBytes: number;
  readonly subscribeQos: 0 | 1 | 2;
  /** MQTT_REPLICA_ID, MQTT_SESSION_EXPIRY_SECONDS, MQTT_SHARE_GROUP (the same for every broker). */
  readonly replica: ReplicaConfig;
}

/** One named broker: its link, its topic policy and what it collects. Policies never mix. */
export interface BrokerConfig {
  /** `default` without MQTT_BROKERS_FILE. */
  readonly name: string;
  readonly mqtt: MqttConfig;
  readonly policy: { readonly read: string[]; readonly write: string[]; readonly deny: string[] };
  /** Filters collected from start-up (configured; tools cannot remove them). */
  readonly subscribe: string[];
}

export interface Config {
  readonly transport: 'stdio' | 'http';
  readonly http: HttpConfig;
  /** At least one; the first is the default of every tool. */
  readonly brokers: readonly BrokerConfig[];
  /** The first broker's (kept for the single-broker wiring). */
  readonly mqtt: MqttConfig;
  readonly policy: BrokerConfig['policy'];
  readonly subscribe: string[];
  readonly store: {
    readonly maxTopics: number;
    readonly maxMessagesPerTopic: number;
    readonly maxBytes: number;
    readonly maxAgeMs: number;
    readonly maxPayloadBytes: number;
  };
  readonly tools: {
    readonly resultPayloadBytes: number;
    readonly resultMaxBytes: number;
    readonly publishMaxBytes: number;
    readonly maxSubscriptions: number;
    readonly maxSubscriptionsPerClient: number;
    readonly toolRatePerMinute: number;
    readonly publishRatePerMinute: number;
    readonly maxConcurrentCalls: number;
    readonly toolTimeoutMs: number;
    readonly allowRetain: boolean;
    readonly allowQos2: boolean;
    readonly confirmTopics: string[];
  };
  /** The durable record (HISTORY_*); undefined without HISTORY_PATH or HISTORY_URL. */
  readonly history: HistoryConfig | undefined;
  /** Decode and track Sparkplug B (MQTT_SPARKPLUG=auto). */
  readonly sparkplug: boolean;
  /** The operator's topic catalog (empty without MCP_TOPIC_CATALOG_FILE). */
  readonly catalog: Catalog;
  readonly auditLogFile: string | undefined;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly production: boolean;
  /** Every secret value loaded, for exact-value redaction in logs and errors. */
  readonly secrets: string[];
}

export function loadConfig(
  rawEnv: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile,
  now: Date = new Date(),
): Config {
  const problems: string[] = [];
  const secrets: string[] = [];
  // Secrets count as loaded even when other variables are wrong, so nothing leaks later.
  for (const value of [rawEnv.MQTT_PASSWORD, rawEnv.MQTT_KEY_PASSPHRASE]) {
    if (value !== undefined && value !== '') secrets.push(value);
  }
  const env = parseEnv(rawEnv, problems);
  const read = (variable: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (error) {
      problems.push(`${variable}: cannot read ${path} (${fileErrorReason(error)})`);
      return undefined;
    }
  };
  const readSecret = (variable: string, path: string | undefined): string | undefined => {
    const data = read(variable, path);
    if (data === undefined) return undefined;
    const value = data.toString('utf8').replace(/\r?\n$/, '');
    if (value.length === 0) {
      problems.push(`${variable}: ${path ?? ''} is empty`);
      return undefined;
    }
    secrets.push(value);
    return value;
  };

  const production = env.NODE_ENV === 'production';
  const brokers = brokerEntries(rawEnv, env, { problems, secrets, readFile }, production, now);

  // ---- timing and sizes ----
  if (env.MQTT_RECONNECT_MAX_MS < env.MQTT_RECONNECT_MIN_MS) {
    problems.push('MQTT_RECONNECT_MAX_MS: must not be smaller than MQTT_RECONNECT_MIN_MS');
  }
  if (env.MCP_RESULT_MAX_BYTES < env.MCP_RESULT_PAYLOAD_BYTES) {
    problems.push('MCP_RESULT_MAX_BYTES: must not be smaller than MCP_RESULT_PAYLOAD_BYTES');
  }
  if (env.STORE_MAX_BYTES < env.STORE_MAX_PAYLOAD_BYTES * 2) {
    problems.push('STORE_MAX_BYTES: must be at least twice STORE_MAX_PAYLOAD_BYTES');
  }

  const replica = replicaConfig(env, brokers, problems);
  for (const b of brokers) {
    if (b.shareGroup !== undefined && b.protocolVersion !== 5)
      problems.push(
        `${b.prefix}shareGroup: needs MQTT 5 (shared subscriptions and subscription identifiers); set protocolVersion to 5`,
      );
  }
  const http = httpConfig(env, problems, secrets, read);
  const history = historyConfig(env, problems, secrets, read, readSecret);

  // ---- topic catalog ----
  let catalog = Catalog.EMPTY;
  const catalogData = read('MCP_TOPIC_CATALOG_FILE', env.MCP_TOPIC_CATALOG_FILE);
  if (catalogData !== undefined && env.MCP_TOPIC_CATALOG_FILE !== undefined) {
    const parsed = parseCatalog(catalogData, env.MCP_TOPIC_CATALOG_FILE);
    if ('problems' in parsed) problems.push(...parsed.problems);
    else catalog = parsed.catalog;
  }

  if (problems.length > 0) {
    const labelled = labelProblems(problems, env.MCP_SETTING_LABELS ?? []);
    throw withSecrets(new ConfigError(labelled), secrets);
  }

  const timing = {
    keepaliveSeconds: env.MQTT_KEEPALIVE_SECONDS,
    connectTimeoutMs: env.MQTT_CONNECT_TIMEOUT_MS,
    reconnectMinMs: env.MQTT_RECONNECT_MIN_MS,
    reconnectMaxMs: env.MQTT_RECONNECT_MAX_MS,
    publishTimeoutMs: env.MQTT_PUBLISH_TIMEOUT_MS,
    maxPacketBytes: env.MQTT_MAX_PACKET_BYTES,
    subscribeQos: env.MQTT_SUBSCRIBE_QOS,
    replica,
  };
  const configured: BrokerConfig[] = brokers.map((b) => ({
    name: b.name,
    mqtt: {
      ...(b.connection as Connection),
      protocolVersion: b.protocolVersion,
      clientIdPrefix: b.clientId,
      ...timing,
      // A file entry's shareGroup replaces MQTT_SHARE_GROUP for that broker.
      replica: b.shareGroup !== undefined ? { ...replica, shareGroup: b.shareGroup } : replica,
    },
    policy: b.policy,
    subscribe: b.subscribe,
  }));
  const first = configured[0] as BrokerConfig;
  return {
    transport: env.MCP_TRANSPORT,
    http,
    brokers: configured,
    mqtt: first.mqtt,
    policy: first.policy,
    subscribe: first.subscribe,
    store: {
      maxTopics: env.STORE_MAX_TOPICS,
      maxMessagesPerTopic: env.STORE_MAX_MESSAGES_PER_TOPIC,
      maxBytes: env.STORE_MAX_BYTES,
      maxAgeMs: env.STORE_MAX_AGE_SECONDS * 1000,
      maxPayloadBytes: env.STORE_MAX_PAYLOAD_BYTES,
    },
    history,
    tools: {
      resultPayloadBytes: env.MCP_RESULT_PAYLOAD_BYTES,
      resultMaxBytes: env.MCP_RESULT_MAX_BYTES,
      publishMaxBytes: env.MCP_PUBLISH_MAX_BYTES,
      maxSubscriptions: env.MCP_MAX_SUBSCRIPTIONS,
      maxSubscriptionsPerClient: env.MCP_MAX_SUBSCRIPTIONS_PER_CLIENT,
      toolRatePerMinute: env.MCP_TOOL_RATE_PER_MINUTE,
      publishRatePerMinute: env.MCP_PUBLISH_RATE_PER_MINUTE,
      maxConcurrentCalls: env.MCP_MAX_CONCURRENT_CALLS,
      toolTimeoutMs: env.MCP_TOOL_TIMEOUT_MS,
      allowRetain: env.MCP_PUBLISH_ALLOW_RETAIN,
      allowQos2: env.MCP_PUBLISH_ALLOW_QOS2,
      confirmTopics: env.MCP_CONFIRM_TOPICS,
    },
    sparkplug: env.MQTT_SPARKPLUG === 'auto',
    catalog,
    auditLogFile: env.MCP_AUDIT_LOG_FILE,
    logLevel: env.LOG_LEVEL,
    production,
    secrets: [...new Set(secrets)],
  };
}
