/**
 * History with several brokers: each broker records into its own SQLite file, opened with that
 * broker's read policy, so records, offline periods and the policy applied to reads never mix.
 * The first broker keeps HISTORY_PATH as it is; another broker records next to it, its name
 * before the extension (`history.db` -> `history.cloud.db`). In a PostgreSQL database
 * (HISTORY_URL) the first broker records in the schema `mqtt_history`, another in its own schema
 * `mqtt_history_{name}`, so the same applies: nothing mixes, and each prunes its own.
 */
import type { Config } from './config/load.js';
import { openHistory } from './history/open.js';
import { brokerSchemaName } from './history/postgres-schema.js';
import type { HistoryBackend } from './history/types.js';

/** Where a broker other than the first records: its name before HISTORY_PATH's extension. */
export function brokerHistoryPath(path: string, broker: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.${broker}${path.slice(dot)}` : `${path}.${broker}`;
}

/**
 * Opens the history of every broker after the first (main.ts opens the first as before). On a
 * failure the ones already opened are closed, and the error names the file.
 */
export async function openBrokerHistories(
  config: Config,
): Promise<Map<string, { backend: HistoryBackend; path: string }>> {
  const opened = new Map<string, { backend: HistoryBackend; path: string }>();
  const history = config.history;
  if (history === undefined) return opened;
  try {
    for (const broker of config.brokers.slice(1)) {
      const scope = { broker: broker.name, first: false };
      if (history.postgres !== undefined) {
        const path = `${history.path} (schema ${brokerSchemaName(broker.name)})`;
        opened.set(broker.name, { backend: await openHistory(history, broker.policy, scope), path });
        continue;
      }
      const path = brokerHistoryPath(history.path, broker.name);
      opened.set(broker.name, {
        backend: await openHistory({ ...history, path }, broker.policy, scope),
        path,
      });
    }
  } catch (error) {
    await Promise.all([...opened.values()].map((h) => h.backend.close().catch(() => undefined)));
    throw error;
  }
  return opened;
}
