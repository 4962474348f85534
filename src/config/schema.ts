/**
 * Environment strings -> typed values. Only the shape of each variable is checked here;
 * files, cross-field rules and TLS material are checked in load.ts.
 */
import { z } from 'zod';
import { quoteTopic, topicFilterProblem } from '../mqtt/topic.js';
import { SETTINGS, type SettingName } from './settings.js';

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: `must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

const filterList = z.string().transform((value, ctx) => {
  const filters = value
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  for (const filter of filters) {
    const problem = topicFilterProblem(filter);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${quoteTopic(filter)}: ${problem}` });
  }
  return [...new Set(filters)];
});

const optionalText = z.string().trim().min(1).optional();

const commaList = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);

const hostList = z.string().transform((value, ctx) => {
  const hosts = commaList(value).map((h) => h.toLowerCase());
  for (const host of hosts) {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]{1,253})$/.test(host)) {
      ctx.addIssue({
        code: 'custom',
        message: `'${host}' is not a host name (no scheme, no port; IPv6 in brackets)`,
      });
    }
  }
  return hosts;
});

const originList = z.string().transform((value, ctx) => {
  const origins = commaList(value);
  for (const origin of origins) {
    let ok: boolean;
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok)
      ctx.addIssue({
        code: 'custom',
        message: `'${origin}' is not an origin (scheme://host[:port], no path)`,
      });
  }
  return origins;
});

const httpUrl = z
  .string()
  .trim()
  .refine(
    (value) => {
      try {
        const u = new URL(value);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
      } catch {
        return false;
      }
    },
    { message: 'must be an http(s) URL without credentials' },
  )
  .transform((value) => value.replace(/\/+$/, ''));

/** `VARIABLE=Label;VARIABLE=Label` -> [variable, label] pairs, each variable a known setting. */
const settingLabels = z.string().transform((value, ctx) => {
  const pairs: Array<[SettingName, string]> = [];
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    const name = (at < 0 ? part : part.slice(0, at)).trim();
    const label = at < 0 ? '' : part.slice(at + 1).trim();
    if (!(name in SETTINGS) || label === '') {
      ctx.addIssue({ code: 'custom', message: `'${name}' is not VARIABLE=Label for a known variable` });
      continue;
    }
    pairs.push([name as SettingName, label]);
  }
  return pairs;
});

export const EnvSchema = z.object({
  // Required unless MQTT_BROKERS_FILE is set (checked in brokers.ts).
  MQTT_URL: optionalText,
  MQTT_BROKERS_FILE: optionalText,
  MQTT_PROTOCOL_VERSION: z
    .enum(['4', '5', 'auto'], { message: 'must be 5, 4 or auto' })
    .transform((v): 4 | 5 | 'auto' => (v === 'auto' ? 'auto' : v === '5' ? 5 : 4)),
  MQTT_CLIENT_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,40}$/, { message: 'must be 1-40 characters from A-Z a-z 0-9 . _ -' }),
  MQTT_REPLICA_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,40}$/, { message: 'must be 1-40 characters from A-Z a-z 0-9 . _ -' })
    .optional(),
  MQTT_SESSION_EXPIRY_SECONDS: int(0, 4_294_967_295).optional(),
  MQTT_SHARE_GROUP: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,40}$/, { message: 'must be 1-40 characters from A-Z a-z 0-9 . _ -' })
    .optional(),
  MQTT_USERNAME: optionalText,
  MQTT_PASSWORD: z.string().min(1).optional(),
  MQTT_PASSWORD_FILE: optionalText,
  MQTT_KEEPALIVE_SECONDS: int(5, 3600),
  MQTT_CONNECT_TIMEOUT_MS: int(1000, 120_000),
  MQTT_RECONNECT_MIN_MS: int(100, 600_000),
  MQTT_RECONNECT_MAX_MS: int(100, 3_600_000),
  MQTT_PUBLISH_TIMEOUT_MS: int(100, 120_000),
  MQTT_MAX_PACKET_BYTES: int(1024, 268_435_455),
  MQTT_SUBSCRIBE_QOS: z
    .enum(['0', '1', '2'], { message: 'must be 0, 1 or 2' })
    .transform((v) => Number(v) as 0 | 1 | 2),
  MQTT_CA_FILE: optionalText,
  MQTT_CERT_FILE: optionalText,
  MQTT_KEY_FILE: optionalText,
  MQTT_KEY_PASSPHRASE_FILE: optionalText,
  MQTT_KEY_PASSPHRASE: z.string().min(1).optional(),
  MQTT_SERVERNAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a DNS name' })
    .optional(),
  MQTT_TLS_INSECURE: z.stringbool({ error: 'must be true or false' }),
  MCP_READ_TOPICS: filterList,
  MCP_WRITE_TOPICS: filterList,
  MCP_DENY_TOPICS: filterList,
  MQTT_SUBSCRIBE: filterList.optional(),
  STORE_MAX_TOPICS: int(1, 10_000_000),
  STORE_MAX_MESSAGES_PER_TOPIC: int(1, 1_000_000),
  STORE_MAX_BYTES: int(1 << 20, 64 * 1024 * 1024 * 1024),
  STORE_MAX_AGE_SECONDS: int(1, 365 * 86_400),
  STORE_MAX_PAYLOAD_BYTES: int(16, 256 * 1024 * 1024),
  HISTORY_PATH: optionalText,
  HISTORY_URL: optionalText,
  HISTORY_PASSWORD_FILE: optionalText,
  HISTORY_CA_FILE: optionalText,
  HISTORY_STATEMENT_TIMEOUT_MS: int(100, 600_000),
  HISTORY_RETENTION_DAYS: int(1, 36_500),
  HISTORY_MAX_BYTES: int(16 * 1024 * 1024, 16 * 1024 * 1024 * 1024 * 1024),
  HISTORY_TOPICS: filterList.optional(),
  HISTORY_MAX_PAYLOAD_BYTES: int(16, 256 * 1024 * 1024),
  HISTORY_FLUSH_MS: int(50, 60_000),
  HISTORY_QUEUE_MAX: int(100, 10_000_000),
  MQTT_SPARKPLUG: z.enum(['auto', 'off'], { message: 'must be auto or off' }),
  MCP_TOPIC_CATALOG_FILE: optionalText,
  MCP_RESULT_PAYLOAD_BYTES: int(16, 1024 * 1024),
  MCP_PUBLISH_MAX_BYTES: int(0, 256 * 1024 * 1024),
  MCP_MAX_SUBSCRIPTIONS: int(1, 10_000),
  MCP_MAX_SUBSCRIPTIONS_PER_CLIENT: int(1, 10_000),
  MCP_RESULT_MAX_BYTES: int(256, 64 * 1024 * 1024),
  MCP_TOOL_RATE_PER_MINUTE: int(1, 1_000_000),
  MCP_PUBLISH_RATE_PER_MINUTE: int(1, 1_000_000),
  MCP_MAX_CONCURRENT_CALLS: int(1, 10_000),
  MCP_TOOL_TIMEOUT_MS: int(1000, 3_600_000),
  MCP_PUBLISH_ALLOW_RETAIN: z.stringbool({ error: 'must be true or false' }),
  MCP_PUBLISH_ALLOW_QOS2: z.stringbool({ error: 'must be true or false' }),
  MCP_CONFIRM_TOPICS: filterList,
  MCP_AUDIT_LOG_FILE: optionalText,
  MCP_TRANSPORT: z.enum(['stdio', 'http'], { message: 'must be stdio or http' }),
  MCP_HTTP_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.:[\]-]{1,253}$/, { message: 'must be an IP address or host name' }),
  MCP_HTTP_PORT: int(0, 65_535),
  MCP_AUTH: z.enum(['token', 'oauth', 'none'], { message: 'must be token, oauth or none' }),
  MCP_AUTH_TOKEN_FILE: optionalText,
  MCP_ALLOWED_HOSTS: hostList.optional(),
  MCP_ALLOWED_ORIGINS: originList,
  MCP_PUBLIC_URL: httpUrl.optional(),
  MCP_OAUTH_ISSUER: httpUrl.optional(),
  MCP_OAUTH_JWKS_URL: httpUrl.optional(),
  MCP_OAUTH_AUDIENCE: optionalText,
  MCP_OAUTH_SCOPES: z.string().transform((v) => v.split(/[\s,]+/).filter((x) => x.length > 0)),
  MCP_OAUTH_WRITE_SCOPE: optionalText,
  MCP_OAUTH_REQUIRE_AT_JWT: z.stringbool({ error: 'must be true or false' }),
  MCP_HTTP_MAX_SESSIONS: int(1, 100_000),
  MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL: int(1, 100_000),
  MCP_HTTP_SESSION_IDLE_SECONDS: int(10, 7 * 86_400),
  MCP_HTTP_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024),
  MCP_HTTP_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000),
  MCP_HTTP_MAX_CONNECTIONS: int(2, 1_000_000),
  MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS: int(1, 1_000_000),
  MCP_HTTP_MAX_UNAUTHENTICATED_PER_ADDRESS: int(1, 1_000_000),
  MCP_HTTP_HEADERS_TIMEOUT_SECONDS: int(1, 600),
  MCP_METRICS_PUBLIC: z.stringbool({ error: 'must be true or false' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }),
  MCP_SETTING_LABELS: settingLabels.optional(),
  NODE_ENV: z.string().optional(),
});

export type Env = z.infer<typeof EnvSchema>;

/**
 * The raw environment, restricted to known variables, with empty values treated as unset and
 * defaults filled in from SETTINGS.
 */
export function withDefaults(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const raw = env[name];
    const value = raw !== undefined && raw.trim() !== '' ? raw : SETTINGS[name].default;
    if (value !== undefined) out[name] = value;
  }
  return out;
}
