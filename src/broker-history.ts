/**
 * History with several brokers: each broker records into its own SQLite file, opened with that
 * broker's read policy, so records, offline periods and the policy applied to reads never mix.
 * The first broker keeps HISTORY_PATH as it is; another broker records next to it, its name
 * before the extension (`history.db` -> `history.cloud.db`). A shared PostgreSQL database
 * (HISTORY_URL) with several brokers is refused by the configuration for now.
 */
import type { Config } from './config/load.js';
import { openHistory } from './history/open.js';
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
  if (history === undefined || history.postgres !== undefined) return opened;
  try {
    for (const broker of config.brokers.slice(1)) {
      const path = brokerHistoryPath(history.path, broker.name);
      opened.set(broker.name, { backend: await openHistory({ ...history, path }, broker.policy), path });
    }
  } catch (error) {
    await Promise.all([...opened.values()].map((h) => h.backend.close().catch(() => undefined)));
    throw error;
  }
  return opened;
}
