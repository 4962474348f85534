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
 *
 * A SQLite file is read for its name while placing. A PostgreSQL schema is chosen by each
 * broker's backend at its first connection, under the migration lock (postgres-schema.ts), so a
 * database that cannot be reached at start still gives every broker its own schema once it can.
 */
import type { Config } from './config/load.js';
import { openHistory, type HistoryPlace } from './history/open.js';
import { brokerSchemaName, SCHEMA } from './history/postgres-schema.js';
import { recordedBroker as fileBroker } from './history/sqlite.js';
import type { HistoryBackend } from './history/types.js';
import { makeClientId } from './mqtt/options.js';

/** Where a broker other than the main store's records: its name before HISTORY_PATH's extension. */
export function brokerHistoryPath(path: string, broker: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.${broker}${path.slice(dot)}` : `${path}.${broker}`;
}

export interface Placement {
  /**
   * Each configured broker's place, in configuration order, with how it is shown (logs,
   * mqtt_status). In PostgreSQL the schema is chosen at the broker's first connection (`choose`),
   * so a database that is down at start places every broker as it would have when up; until then
   * `shown` is where it goes unless the main schema names another broker.
   */
  readonly places: ReadonlyArray<HistoryPlace & { readonly shown: string }>;
}

/**
 * `unconfigured`: told (once) the broker the main store names when the configuration does not
 * name it; its store is left alone. SQLite: while placing; PostgreSQL: at the first connection.
 */
export function placeHistories(
  config: Config,
  unconfigured: (broker: string) => void = () => undefined,
): Placement {
  const history = config.history;
  if (history === undefined) return { places: [] };
  const names = config.brokers.map((b) => b.name);
  const told = new Set<string>();
  const mainFor = (owner: string | undefined): string => {
    if (owner !== undefined && !names.includes(owner) && !told.has(owner)) {
      told.add(owner);
      unconfigured(owner);
    }
    return owner ?? (names[0] as string);
  };
  const postgres = history.postgres !== undefined;
  const sqliteMain = postgres ? '' : mainFor(fileBroker(history.path));
  const places = names.map((broker, index) => {
    if (postgres) {
      const own = brokerSchemaName(broker);
      let location = index === 0 ? SCHEMA : own;
      return {
        broker,
        location,
        choose: (owner: string | undefined) => {
          location = mainFor(owner) === broker ? SCHEMA : own;
          return location;
        },
        // The main schema is shown as the URL alone, as with one broker.
        get shown() {
          return location === SCHEMA ? history.path : `${history.path} (schema ${location})`;
        },
      };
    }
    const location = broker === sqliteMain ? history.path : brokerHistoryPath(history.path, broker);
    return { broker, location, shown: location };
  });
  return { places };
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
    for (const place of (placement ?? placeHistories(config)).places) {
      const broker = config.brokers.find((b) => b.name === place.broker);
      if (broker === undefined) continue;
      const { replicaId } = broker.mqtt.replica;
      const session =
        replicaId !== undefined ? makeClientId(broker.mqtt.clientIdPrefix, replicaId) : undefined;
      const backend = await openHistory(history, broker.policy, place, session);
      opened.set(place.broker, {
        backend,
        get path() {
          return place.shown;
        },
      });
    }
  } catch (error) {
    await Promise.all([...opened.values()].map((h) => h.backend.close().catch(() => undefined)));
    throw error;
  }
  return opened;
}
