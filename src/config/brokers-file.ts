/**
 * MQTT_BROKERS_FILE (YAML, or JSON as it is): the named brokers one bridge talks to, each with its
 * own address, identity, policy and collection. This module checks the file's shape, names and
 * filters; load.ts checks each entry's connection (URL, files, TLS) like the MQTT_* variables.
 * Every message names the entry and the field (`brokers[1] "cloud": caFile: ...`). Secrets stay in
 * files: an entry with an inline password or passphrase is refused without repeating it.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { quoteTopic, topicFilterProblem } from '../mqtt/topic.js';
import type { ConnectionInput } from './broker-connection.js';

/** Brokers one bridge talks to at most. */
export const MAX_BROKERS = 16;
const MAX_FILE_BYTES = 1024 * 1024;
export const BROKER_NAME = /^[a-z0-9_-]{1,32}$/;

/** The MQTT_* and MCP_*_TOPICS variables an entry of the file replaces: setting them too is an error. */
export const PER_BROKER_VARIABLES = [
  'MQTT_URL',
  'MQTT_PROTOCOL_VERSION',
  'MQTT_CLIENT_ID',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
  'MQTT_PASSWORD_FILE',
  'MQTT_CA_FILE',
  'MQTT_CERT_FILE',
  'MQTT_KEY_FILE',
  'MQTT_KEY_PASSPHRASE',
  'MQTT_KEY_PASSPHRASE_FILE',
  'MQTT_SERVERNAME',
  'MQTT_TLS_INSECURE',
  'MCP_READ_TOPICS',
  'MCP_WRITE_TOPICS',
  'MCP_DENY_TOPICS',
  'MQTT_SUBSCRIBE',
] as const;

const path = z.string().trim().min(1, { message: 'must be a file path' });
const filters = z.array(z.string(), { message: 'must be a list of topic filters' }).max(1000);

const EntrySchema = z
  .object({
    name: z.string({ message: 'is required' }),
    url: z.string({ message: 'is required (e.g. mqtts://broker.example:8883)' }).trim().min(1, {
      message: 'is required (e.g. mqtts://broker.example:8883)',
    }),
    username: z.string().trim().min(1, { message: 'must not be empty' }).optional(),
    passwordFile: path.optional(),
    caFile: path.optional(),
    certFile: path.optional(),
    keyFile: path.optional(),
    keyPassphraseFile: path.optional(),
    servername: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a DNS name' })
      .optional(),
    clientId: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,40}$/, { message: 'must be 1-40 characters from A-Z a-z 0-9 . _ -' })
      .optional(),
    protocolVersion: z
      .union([z.literal(4), z.literal(5), z.literal('4'), z.literal('5'), z.literal('auto')], {
        message: 'must be 5, 4 or auto',
      })
      .optional(),
    shareGroup: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,40}$/, { message: 'must be 1-40 characters from A-Z a-z 0-9 . _ -' })
      .optional(),
    read: filters.optional(),
    write: filters.optional(),
    deny: filters.optional(),
    subscribe: filters.optional(),
  })
  .strict();

const FIELDS = Object.keys(EntrySchema.shape);
/** Inline secrets people may try; refused with a pointer to the file field. */
const INLINE_SECRETS: Readonly<Record<string, string>> = {
  password: 'passwordFile',
  keyPassphrase: 'keyPassphraseFile',
  passphrase: 'keyPassphraseFile',
};

export interface BrokerEntry {
  readonly name: string;
  /** `brokers[1] "cloud": `, the start of its messages. */
  readonly prefix: string;
  readonly connection: ConnectionInput;
  readonly protocolVersion: 4 | 5 | 'auto';
  readonly clientId: string;
  readonly policy: { readonly read: string[]; readonly write: string[]; readonly deny: string[] };
  readonly subscribe: string[];
  /** This broker's shared-subscription group, instead of MQTT_SHARE_GROUP (file entries only). */
  readonly shareGroup?: string | undefined;
}

/** The entries of the file; problems (naming entry and field) are appended to `problems`. */
export function parseBrokersFile(
  data: Buffer,
  file: string,
  problems: string[],
  secrets: string[],
): BrokerEntry[] {
  const where = `MQTT_BROKERS_FILE: ${file}`;
  if (data.length > MAX_FILE_BYTES) {
    problems.push(`${where} is larger than ${MAX_FILE_BYTES} bytes`);
    return [];
  }
  let document: unknown;
  try {
    document = parseYaml(data.toString('utf8'), { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    // The parser's message may quote the file; only the position is repeated.
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    problems.push(`${where} is not valid YAML or JSON${line !== undefined ? ` (line ${line})` : ''}`);
    return [];
  }
  const list = (document as { brokers?: unknown } | null)?.brokers;
  if (typeof document !== 'object' || document === null || !Array.isArray(list)) {
    problems.push(`${where} must hold {"brokers": [{"name": ..., "url": ...}, ...]}`);
    return [];
  }
  const extra = Object.keys(document).filter((key) => key !== 'brokers');
  if (extra.length > 0) problems.push(`${where}: unknown top-level field; the file holds only "brokers"`);
  if (list.length === 0 || list.length > MAX_BROKERS) {
    problems.push(`${where}: brokers must list 1 to ${MAX_BROKERS} brokers`);
    return [];
  }
  const entries: BrokerEntry[] = [];
  const seen = new Set<string>();
  (list as unknown[]).forEach((raw, index) => {
    const rawName = (raw as { name?: unknown } | null)?.name;
    const named = typeof rawName === 'string' && BROKER_NAME.test(rawName);
    const prefix = `brokers[${index}]${named ? ` "${rawName}"` : ''}: `;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${prefix}must be an object with name and url`);
      return;
    }
    const fields = raw as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      const instead = INLINE_SECRETS[key];
      if (instead === undefined) continue;
      if (typeof value === 'string' && value !== '') secrets.push(value);
      // Worded without `key: value`, which the log scrubber would take for a secret.
      problems.push(`${prefix}an inline ${key} is not accepted; put it in a file named by ${instead}`);
    }
    // An inline secret is refused, yet the rest of the entry is still checked.
    const before = problems.length;
    const clean = Object.fromEntries(Object.entries(fields).filter(([key]) => !(key in INLINE_SECRETS)));
    const parsed = EntrySchema.safeParse(clean);
    if (!named) {
      problems.push(
        `${prefix}name: ${rawName === undefined ? 'is required; ' : ''}must be 1-32 characters from a-z 0-9 _ -`,
      );
    } else if (seen.has(rawName)) {
      problems.push(`${prefix}name: another broker has the same name`);
    } else {
      seen.add(rawName);
    }
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          problems.push(`${prefix}unknown field; an entry takes ${FIELDS.join(', ')}`);
          continue;
        }
        const field = issue.path[0];
        if (field === 'name') continue;
        problems.push(`${prefix}${typeof field === 'string' ? `${field}: ` : ''}${issue.message}`);
      }
      return;
    }
    const e = parsed.data;
    for (const field of ['read', 'write', 'deny', 'subscribe'] as const) {
      for (const filter of e[field] ?? []) {
        const problem = topicFilterProblem(filter);
        if (problem !== undefined) problems.push(`${prefix}${field}: ${quoteTopic(filter)}: ${problem}`);
      }
    }
    if (problems.length > before || !named) return;
    const read = unique(e.read ?? ['#']);
    entries.push({
      name: rawName,
      prefix,
      connection: {
        url: e.url,
        username: e.username,
        passwordFile: e.passwordFile,
        caFile: e.caFile,
        certFile: e.certFile,
        keyFile: e.keyFile,
        keyPassphraseFile: e.keyPassphraseFile,
        servername: e.servername,
        insecure: false,
      },
      protocolVersion:
        e.protocolVersion === undefined || e.protocolVersion === 'auto'
          ? (e.protocolVersion ?? 5)
          : (Number(e.protocolVersion) as 4 | 5),
      clientId: e.clientId ?? 'mcp-bridge',
      policy: { read, write: unique(e.write ?? []), deny: unique(e.deny ?? []) },
      subscribe: unique(e.subscribe ?? read),
      shareGroup: e.shareGroup,
    });
  });
  return entries;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
