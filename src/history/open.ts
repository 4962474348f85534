/**
 * Opens the history backend HISTORY_PATH names: the embedded SQLite file (the only backend for
 * now). Rejects with HistoryOpenError when the file cannot be used; it is then left as it was.
 */
import type { HistoryConfig } from '../config/load.js';
import type { PolicyRules } from '../policy/acl.js';
import { DEFAULT_MAX_FIELDS } from './numeric.js';
import { SqliteHistory } from './sqlite-backend.js';
import type { HistoryBackend } from './types.js';

export function openHistory(config: HistoryConfig, policy: PolicyRules): Promise<HistoryBackend> {
  return SqliteHistory.open({
    location: config.path,
    policy,
    retentionMs: config.retentionMs,
    maxBytes: config.maxBytes,
    maxPayloadBytes: config.maxPayloadBytes,
    maxFieldsPerMessage: DEFAULT_MAX_FIELDS,
  });
}
