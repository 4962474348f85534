/**
 * Opens the history backend the configuration names: the embedded SQLite file (HISTORY_PATH) or a
 * PostgreSQL database (HISTORY_URL). Rejects with HistoryOpenError when the store cannot be used
 * (a foreign or newer file or schema, or one holding another broker's history); it is then left
 * as it was. A PostgreSQL database that cannot be reached is not such an error
 * (see postgres-backend.ts).
 */
import type { HistoryConfig } from '../config/load.js';
import type { PolicyRules } from '../policy/acl.js';
import { DEFAULT_MAX_FIELDS } from './numeric.js';
import { PostgresHistory } from './postgres-backend.js';
import { SCHEMA } from './postgres-schema.js';
import { SqliteHistory } from './sqlite-backend.js';
import type { HistoryBackend } from './types.js';

/** Where one broker's history lives (broker-history.ts places several). */
export interface HistoryPlace {
  /** Its name: recorded in the store, checked at every open, and in PostgreSQL's `broker` column. */
  readonly broker: string;
  /** SQLite: the file. PostgreSQL: the schema's name (unquoted). */
  readonly location: string;
  /**
   * PostgreSQL with several brokers: the schema (unquoted) that is this broker's, given the broker
   * the main schema names; asked at the first connection, instead of `location`.
   */
  readonly choose?: (mainOwner: string | undefined) => string;
}

/** The one broker's place without MQTT_BROKERS_FILE: HISTORY_PATH, or the schema `mqtt_history`. */
export function defaultPlace(config: HistoryConfig, broker = 'default'): HistoryPlace {
  return { broker, location: config.postgres !== undefined ? SCHEMA : config.path };
}

/**
 * `session`: the MQTT client id of a kept session (MQTT_REPLICA_ID), whose packet ids history
 * keeps so a copy the broker resends after a crash is not recorded twice (redeliveries.ts).
 */
export function openHistory(
  config: HistoryConfig,
  policy: PolicyRules,
  place: HistoryPlace = defaultPlace(config),
  session?: string,
): Promise<HistoryBackend> {
  const common = {
    policy,
    retentionMs: config.retentionMs,
    maxBytes: config.maxBytes,
    maxPayloadBytes: config.maxPayloadBytes,
    maxFieldsPerMessage: DEFAULT_MAX_FIELDS,
    broker: place.broker,
    session,
  };
  const { choose } = place;
  if (config.postgres !== undefined)
    return PostgresHistory.open({
      ...common,
      connect: { ...config.postgres, schema: `"${place.location}"` },
      ...(choose !== undefined ? { choose: (owner: string | undefined) => `"${choose(owner)}"` } : {}),
    });
  return SqliteHistory.open({ location: place.location, ...common });
}
