/**
 * The brokers of this bridge: the entries of MQTT_BROKERS_FILE, or, without it, one broker named
 * `default` described by the MQTT_* variables. Each broker's connection is checked by
 * broker-connection.ts and its collection against its own read policy.
 */
import { filtersOverlap, quoteTopic } from '../mqtt/topic.js';
import {
  ENV_NAMES,
  brokerConnection,
  entryNames,
  type Connection,
  type ReadFile,
} from './broker-connection.js';
import { PER_BROKER_VARIABLES, parseBrokersFile, type BrokerEntry } from './brokers-file.js';
import { fileErrorReason } from './parse.js';
import type { Env } from './schema.js';

export const DEFAULT_BROKER = 'default';

export interface ResolvedBroker extends Omit<BrokerEntry, 'connection'> {
  /** Undefined when it has problems (then loadConfig fails). */
  readonly connection: Connection | undefined;
}

interface Context {
  readonly problems: string[];
  readonly secrets: string[];
  readonly readFile: ReadFile;
}

export function brokerEntries(
  rawEnv: Readonly<Record<string, string | undefined>>,
  env: Env,
  context: Context,
  production: boolean,
  now: Date,
): ResolvedBroker[] {
  const { problems } = context;
  const file = env.MQTT_BROKERS_FILE;
  if (file === undefined) {
    if (env.MQTT_URL === undefined) problems.push('MQTT_URL: is required (e.g. mqtts://broker.example:8883)');
    const entry: BrokerEntry = {
      name: DEFAULT_BROKER,
      prefix: '',
      connection: {
        url: env.MQTT_URL ?? '',
        username: env.MQTT_USERNAME,
        password: env.MQTT_PASSWORD,
        passwordFile: env.MQTT_PASSWORD_FILE,
        caFile: env.MQTT_CA_FILE,
        certFile: env.MQTT_CERT_FILE,
        keyFile: env.MQTT_KEY_FILE,
        keyPassphrase: env.MQTT_KEY_PASSPHRASE,
        keyPassphraseFile: env.MQTT_KEY_PASSPHRASE_FILE,
        servername: env.MQTT_SERVERNAME,
        insecure: env.MQTT_TLS_INSECURE,
      },
      protocolVersion: env.MQTT_PROTOCOL_VERSION,
      clientId: env.MQTT_CLIENT_ID,
      policy: { read: env.MCP_READ_TOPICS, write: env.MCP_WRITE_TOPICS, deny: env.MCP_DENY_TOPICS },
      subscribe: env.MQTT_SUBSCRIBE ?? env.MCP_READ_TOPICS,
    };
    const connection = brokerConnection(entry.connection, ENV_NAMES, context, production, now);
    collectionProblems(entry, env, problems, { subscribe: 'MQTT_SUBSCRIBE', read: 'MCP_READ_TOPICS' });
    return [{ ...entry, connection }];
  }

  for (const name of PER_BROKER_VARIABLES) {
    const value = rawEnv[name];
    if (value !== undefined && value.trim() !== '')
      problems.push(
        `${name}: is set together with MQTT_BROKERS_FILE; with the file, each broker's settings go into its entry`,
      );
  }
  let data: Buffer;
  try {
    data = context.readFile(file);
  } catch (error) {
    problems.push(`MQTT_BROKERS_FILE: cannot read ${file} (${fileErrorReason(error)})`);
    return [];
  }
  return parseBrokersFile(data, file, problems, context.secrets).map((entry) => {
    const connection = brokerConnection(entry.connection, entryNames(entry.prefix), context, production, now);
    collectionProblems(entry, env, problems, {
      subscribe: `${entry.prefix}subscribe`,
      read: 'read',
    });
    return { ...entry, connection };
  });
}

/** What a broker collects must be readable, and fit in MCP_MAX_SUBSCRIPTIONS. */
function collectionProblems(
  entry: BrokerEntry,
  env: Env,
  problems: string[],
  names: { readonly subscribe: string; readonly read: string },
): void {
  for (const filter of entry.subscribe) {
    if (!entry.policy.read.some((rule) => filtersOverlap(rule, filter))) {
      problems.push(
        `${names.subscribe}: ${quoteTopic(filter)} matches no topic of ${names.read}, so everything it collects would be dropped`,
      );
    }
  }
  if (entry.subscribe.length > env.MCP_MAX_SUBSCRIPTIONS) {
    problems.push(
      `${names.subscribe}: has ${entry.subscribe.length} filters, more than MCP_MAX_SUBSCRIPTIONS (${env.MCP_MAX_SUBSCRIPTIONS})`,
    );
  }
}
