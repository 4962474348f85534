/**
 * Where each broker's history lives, so records, offline periods and the policy applied to reads
 * never mix. Every store records the name of the broker it holds (SQLite: meta `broker`;
 * PostgreSQL: the schema's meta table), and every open checks it: a store that names another
 * broker is refused, never read under this broker's policy.
 *
 * The main store (HISTORY_PATH, or the schema `mqtt_history` of HISTORY_URL) belongs to the broker
 * it names; when it names none (new, or made before stores recorded it), to the first broker.
 * Every other broker records next to it under its own name: `history.db` -> `history.cloud.db`,
 * or the schema `mqtt_history_cloud`. So reordering MQTT_BROKERS_FILE changes nothing: each
 * broker finds its own past. A store whose broker the file no longer names is left alone.
 */
import type { Config, HistoryConfig } from './config/load.js';
import { openHistory, type HistoryPlace } from './history/open.js';
import { PgPool } from './history/postgres.js';
import { brokerSchemaName, recordedBroker as schemaBroker, SCHEMA } from './history/postgres-schema.js';
import { recordedBroker as fileBroker } from './history/sqlite.js';
import type { HistoryBackend } from './history/types.js';
import { makeClientId } from './mqtt/options.js';

/** Where a broker other than the main store's records: its name before HISTORY_PATH's extension. */
export function brokerHistoryPath(path: string, broker: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.${broker}${path.slice(dot)}` : `${path}.${broker}`;
}

/**
 * The broker the main store names, if any. A database that cannot be reached answers undefined:
 * the first broker is then placed there, and its open checks the name once the database answers.
 */
async function mainOwner(history: HistoryConfig): Promise<string | undefined> {
  if (history.postgres === undefined) return fileBroker(history.path);
  const db = new PgPool({ ...history.postgres, schema: SCHEMA, maxConnections: 1 });
  try {
    return await schemaBroker(db);
  } catch {
    return undefined;
  } finally {
    await db.close().catch(() => undefined);
  }
}

export interface Placement {
  /** Each configured broker's place, in configuration order, with how it is shown (logs, mqtt_status). */
  readonly places: ReadonlyArray<HistoryPlace & { readonly shown: string }>;
  /** The broker the main store names when the configuration does not name it (its store is left alone). */
  readonly unconfigured?: string;
}

export async function placeHistories(config: Config): Promise<Placement> {
  const history = config.history;
  if (history === undefined) return { places: [] };
  const names = config.brokers.map((b) => b.name);
  const owner = await mainOwner(history);
  const main = owner !== undefined ? owner : names[0];
  const places = names.map((broker) => {
    if (history.postgres !== undefined) {
      const location = broker === main ? SCHEMA : brokerSchemaName(broker);
      // The main schema is shown as the URL alone, as with one broker.
      const shown = location === SCHEMA ? history.path : `${history.path} (schema ${location})`;
      return { broker, location, shown };
    }
    const location = broker === main ? history.path : brokerHistoryPath(history.path, broker);
    return { broker, location, shown: location };
  });
  return owner !== undefined && !names.includes(owner) ? { places, unconfigured: owner } : { places };
}

/**
 * Opens every broker's history where placeHistories puts it. On a failure the ones already opened
 * are closed, and the error (HistoryOpenError) names the file or schema.
 */
export async function openHistories(
  config: Config,
  placement?: Placement,
): Promise<Map<string, { backend: HistoryBackend; path: string }>> {
  const opened = new Map<string, { backend: HistoryBackend; path: string }>();
  const history = config.history;
  if (history === undefined) return opened;
  try {
    for (const place of (placement ?? (await placeHistories(config))).places) {
      const broker = config.brokers.find((b) => b.name === place.broker);
      if (broker === undefined) continue;
      const { replicaId } = broker.mqtt.replica;
      const session =
        replicaId !== undefined ? makeClientId(broker.mqtt.clientIdPrefix, replicaId) : undefined;
      opened.set(place.broker, {
        backend: await openHistory(history, broker.policy, place, session),
        path: place.shown,
      });
    }
  } catch (error) {
    await Promise.all([...opened.values()].map((h) => h.backend.close().catch(() => undefined)));
    throw error;
  }
  return opened;
}
