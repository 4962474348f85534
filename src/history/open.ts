/**
 * Opens the history backend the configuration names: the embedded SQLite file (HISTORY_PATH) or a
 * PostgreSQL database (HISTORY_URL). Rejects with HistoryOpenError when the store cannot be used
 * (a foreign or newer file or schema); it is then left as it was. A PostgreSQL database that
 * cannot be reached is not such an error (see postgres-backend.ts).
 */
import type { HistoryConfig } from '../config/load.js';
import type { PolicyRules } from '../policy/acl.js';
import { DEFAULT_MAX_FIELDS } from './numeric.js';
import { PostgresHistory } from './postgres-backend.js';
import { schemaOf } from './postgres-schema.js';
import { SqliteHistory } from './sqlite-backend.js';
import type { HistoryBackend } from './types.js';

/**
 * `scope`: the broker it records (with several brokers): its name goes into PostgreSQL's
 * `broker` column, and a broker other than the first records in its own schema
 * (`mqtt_history_{name}`), as it records in its own SQLite file (broker-history.ts).
 */
export function openHistory(
  config: HistoryConfig,
  policy: PolicyRules,
  scope: { readonly broker: string; readonly first: boolean } = { broker: 'default', first: true },
): Promise<HistoryBackend> {
  const common = {
    policy,
    retentionMs: config.retentionMs,
    maxBytes: config.maxBytes,
    maxPayloadBytes: config.maxPayloadBytes,
    maxFieldsPerMessage: DEFAULT_MAX_FIELDS,
  };
  if (config.postgres !== undefined)
    return PostgresHistory.open({
      ...common,
      connect: { ...config.postgres, schema: schemaOf(scope.first ? undefined : scope.broker) },
      broker: scope.broker,
    });
  return SqliteHistory.open({ location: config.path, ...common });
}
