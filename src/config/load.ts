/**
 * loadConfig(env, readFile) -> Config. Collects every problem before failing, names the
 * variable in each, and never includes a secret value or file content in a message.
 */
import { Catalog, parseCatalog } from '../catalog/catalog.js';
import { ConfigError } from '../errors.js';
import { filtersOverlap, quoteTopic } from '../mqtt/topic.js';
import { historyConfig, type HistoryConfig } from './history-config.js';
import { httpConfig, type HttpConfig } from './http-config.js';
import { labelProblems } from './labels.js';
import { fileErrorReason, keyBodyLines, parseEnv, withSecrets } from './parse.js';
import type { Env } from './schema.js';
import { tlsMaterialProblems } from './tls-material.js';

export type { HttpAuth, HttpConfig } from './http-config.js';
export type { HistoryConfig, PostgresConfig } from './history-config.js';
export { configErrorSecrets } from './parse.js';

export type ReadFile = (path: string) => Buffer;

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
}

export interface Config {
  readonly transport: 'stdio' | 'http';
  readonly http: HttpConfig;
  readonly mqtt: MqttConfig;
  readonly policy: { readonly read: string[]; readonly write: string[]; readonly deny: string[] };
  /** Filters collected from start-up (configured; tools cannot remove them). */
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

const SCHEMES = {
  'mqtt:': { protocol: 'mqtt', port: 1883, secure: false, ws: false },
  'mqtts:': { protocol: 'mqtts', port: 8883, secure: true, ws: false },
  'ws:': { protocol: 'ws', port: 80, secure: false, ws: true },
  'wss:': { protocol: 'wss', port: 443, secure: true, ws: true },
} as const;

/** The WebSocket path when MQTT_URL has none: what most brokers serve MQTT over WebSockets on. */
const DEFAULT_WS_PATH = '/mqtt';

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

  // ---- URL ----
  let url: URL | undefined;
  if (env.MQTT_URL !== '') {
    try {
      url = new URL(env.MQTT_URL);
    } catch {
      problems.push(
        'MQTT_URL: is not a valid URL (expected mqtts://host:8883, mqtt://host:1883, wss://host:8884/mqtt or ws://host:8080/mqtt)',
      );
    }
  }
  let scheme: (typeof SCHEMES)[keyof typeof SCHEMES] | undefined;
  if (url !== undefined) {
    if (url.username !== '' || url.password !== '') {
      if (url.password !== '') secrets.push(decodeURIComponent(url.password));
      problems.push(
        'MQTT_URL: must not contain a user name or password; use MQTT_USERNAME with MQTT_PASSWORD or MQTT_PASSWORD_FILE instead',
      );
    }
    scheme = SCHEMES[url.protocol as keyof typeof SCHEMES];
    if (scheme === undefined) problems.push('MQTT_URL: scheme must be mqtts://, mqtt://, wss:// or ws://');
    if (url.hostname === '') problems.push('MQTT_URL: has no host');
    if (url.port === '0') problems.push('MQTT_URL: port 0 is not a broker port');
    if (scheme?.ws === true) {
      if (url.search !== '' || url.hash !== '')
        problems.push('MQTT_URL: must be scheme://host:port/path without a query or fragment');
    } else if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      problems.push('MQTT_URL: must be scheme://host:port without a path, query or fragment');
    }
  }

  // ---- credentials ----
  if (env.MQTT_PASSWORD !== undefined && env.MQTT_PASSWORD_FILE !== undefined) {
    problems.push('MQTT_PASSWORD and MQTT_PASSWORD_FILE: set one of them, not both');
  }
  const filePassword = readSecret('MQTT_PASSWORD_FILE', env.MQTT_PASSWORD_FILE);
  const finalPassword = env.MQTT_PASSWORD ?? filePassword;
  if (finalPassword !== undefined && env.MQTT_USERNAME === undefined) {
    problems.push('MQTT_USERNAME: is required when a password is set');
  }

  // ---- TLS ----
  if ((env.MQTT_CERT_FILE === undefined) !== (env.MQTT_KEY_FILE === undefined)) {
    problems.push('MQTT_CERT_FILE and MQTT_KEY_FILE: set both (mutual TLS) or neither');
  }
  for (const name of ['MQTT_KEY_PASSPHRASE', 'MQTT_KEY_PASSPHRASE_FILE'] as const) {
    if (env[name] !== undefined && env.MQTT_KEY_FILE === undefined)
      problems.push(`${name}: is set but MQTT_KEY_FILE is not`);
  }
  if (env.MQTT_KEY_PASSPHRASE !== undefined && env.MQTT_KEY_PASSPHRASE_FILE !== undefined) {
    problems.push('MQTT_KEY_PASSPHRASE and MQTT_KEY_PASSPHRASE_FILE: set one of them, not both');
  }
  const tlsVars = ['MQTT_CA_FILE', 'MQTT_CERT_FILE', 'MQTT_KEY_FILE', 'MQTT_SERVERNAME'] as const;
  if (scheme !== undefined && !scheme.secure) {
    const plain = `${scheme.protocol}://`;
    const secure = scheme.ws ? 'wss://' : 'mqtts://';
    for (const name of tlsVars) {
      if (env[name] !== undefined)
        problems.push(`${name}: is set but MQTT_URL uses plain ${plain}; use ${secure}`);
    }
    if (env.MQTT_TLS_INSECURE) problems.push(`MQTT_TLS_INSECURE: is set but MQTT_URL uses plain ${plain}`);
  }
  const production = env.NODE_ENV === 'production';
  if (env.MQTT_TLS_INSECURE && production) {
    problems.push('MQTT_TLS_INSECURE: is refused when NODE_ENV=production; fix the CA instead');
  }
  const ca = read('MQTT_CA_FILE', env.MQTT_CA_FILE);
  const cert = read('MQTT_CERT_FILE', env.MQTT_CERT_FILE);
  const key = read('MQTT_KEY_FILE', env.MQTT_KEY_FILE);
  const filePassphrase = readSecret('MQTT_KEY_PASSPHRASE_FILE', env.MQTT_KEY_PASSPHRASE_FILE);
  const passphrase = env.MQTT_KEY_PASSPHRASE ?? filePassphrase;
  if (key !== undefined) secrets.push(...keyBodyLines(key));
  if (
    (env.MQTT_CA_FILE === undefined || ca !== undefined) &&
    (env.MQTT_CERT_FILE === undefined || cert !== undefined) &&
    (env.MQTT_KEY_FILE === undefined || key !== undefined) &&
    (env.MQTT_KEY_PASSPHRASE_FILE === undefined || filePassphrase !== undefined)
  ) {
    problems.push(
      ...tlsMaterialProblems(
        {
          ...(ca !== undefined && env.MQTT_CA_FILE !== undefined
            ? { ca: { path: env.MQTT_CA_FILE, data: ca } }
            : {}),
          ...(cert !== undefined && env.MQTT_CERT_FILE !== undefined
            ? { cert: { path: env.MQTT_CERT_FILE, data: cert } }
            : {}),
          ...(key !== undefined && env.MQTT_KEY_FILE !== undefined
            ? { key: { path: env.MQTT_KEY_FILE, data: key } }
            : {}),
          ...(passphrase !== undefined
            ? {
                passphrase,
                passphraseVariable:
                  env.MQTT_KEY_PASSPHRASE !== undefined ? 'MQTT_KEY_PASSPHRASE' : 'MQTT_KEY_PASSPHRASE_FILE',
              }
            : {}),
        },
        now,
      ),
    );
  }

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

  // ---- policy ----
  const subscribe = env.MQTT_SUBSCRIBE ?? env.MCP_READ_TOPICS;
  for (const filter of subscribe) {
    if (!env.MCP_READ_TOPICS.some((rule) => filtersOverlap(rule, filter))) {
      problems.push(
        `MQTT_SUBSCRIBE: ${quoteTopic(filter)} matches no topic of MCP_READ_TOPICS, so everything it collects would be dropped`,
      );
    }
  }
  if (subscribe.length > env.MCP_MAX_SUBSCRIPTIONS) {
    problems.push(
      `MQTT_SUBSCRIBE: has ${subscribe.length} filters, more than MCP_MAX_SUBSCRIPTIONS (${env.MCP_MAX_SUBSCRIPTIONS})`,
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

  const u = url as URL;
  const s = scheme as NonNullable<typeof scheme>;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? s.port : Number(u.port);
  const path = s.ws ? (u.pathname === '' || u.pathname === '/' ? DEFAULT_WS_PATH : u.pathname) : undefined;
  return {
    transport: env.MCP_TRANSPORT,
    http,
    mqtt: {
      url: `${s.protocol}://${u.hostname}:${port}${path ?? ''}`,
      protocol: s.protocol,
      secure: s.secure,
      host,
      port,
      path,
      protocolVersion: env.MQTT_PROTOCOL_VERSION,
      clientIdPrefix: env.MQTT_CLIENT_ID,
      username: env.MQTT_USERNAME,
      password: finalPassword,
      tls: {
        ca,
        cert,
        key,
        passphrase,
        servername: env.MQTT_SERVERNAME,
        insecure: env.MQTT_TLS_INSECURE,
      },
      keepaliveSeconds: env.MQTT_KEEPALIVE_SECONDS,
      connectTimeoutMs: env.MQTT_CONNECT_TIMEOUT_MS,
      reconnectMinMs: env.MQTT_RECONNECT_MIN_MS,
      reconnectMaxMs: env.MQTT_RECONNECT_MAX_MS,
      publishTimeoutMs: env.MQTT_PUBLISH_TIMEOUT_MS,
      maxPacketBytes: env.MQTT_MAX_PACKET_BYTES,
      subscribeQos: env.MQTT_SUBSCRIBE_QOS,
    },
    policy: { read: env.MCP_READ_TOPICS, write: env.MCP_WRITE_TOPICS, deny: env.MCP_DENY_TOPICS },
    subscribe,
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
