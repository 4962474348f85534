/**
 * The worker thread that owns the SQLite connection: opens the file (workerData: HistoryOptions),
 * then answers requests from sqlite-backend.ts one at a time, reads and writes alike, so a long
 * summary never runs on the main thread and never interleaves with a batch.
 *
 * Protocol: the worker first posts { type: 'ready' } or { type: 'open-error', message }; then
 * each request { id, op, args } gets { id, ok: true, result } or { id, ok: false, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThread } from './thread-priority.js';
import { TopicPolicy } from '../policy/acl.js';
import { extractNumeric } from './numeric.js';
import { SparkplugFields } from './sparkplug-fields.js';
import { SqliteFile } from './sqlite.js';
import { SqliteReader } from './sqlite-read.js';
import { SqliteWriter } from './sqlite-write.js';
import { HistoryFault, HistoryOpenError, type HistoryOptions } from './types.js';
import { unpackRecords, type PackedRecords } from './records-transfer.js';
import { workerError, type CallReply } from './worker-calls.js';

export interface WorkerRequest {
  readonly id: number;
  readonly op: string;
  readonly args: readonly unknown[];
}

export type WorkerReply =
  { readonly type: 'ready' } | { readonly type: 'open-error'; readonly message: string } | CallReply;

const port = parentPort;
// Below the ingest thread: under contention ingest gets the CPU first (thread-priority.ts).
lowerThisThread();
if (port === null) throw new Error('sqlite-worker.ts runs as a worker thread');
const options = workerData as HistoryOptions;

function post(reply: WorkerReply): void {
  port?.postMessage(reply);
}

let file: SqliteFile;
try {
  file = SqliteFile.open(options.location, options.broker);
} catch (error) {
  post({
    type: 'open-error',
    message:
      error instanceof HistoryOpenError ? error.message : `cannot open ${options.location}: ${String(error)}`,
  });
  process.exit(0);
}
const reader = new SqliteReader(file, new TopicPolicy(options.policy));
// Sparkplug metrics by name; any other payload by extractNumeric.
const sparkplug = new SparkplugFields((topic) => reader.latest(topic, 1).messages[0]?.payload);
const writer = new SqliteWriter(
  file,
  options.maxFieldsPerMessage,
  (topic, payload, max) => sparkplug.fields(topic, payload, max) ?? extractNumeric(payload, max),
  options.session,
);

/** Writes: a fault is classified (full, read-only, locked, vanished, io) for the recorder. */
function write<T>(f: () => T): T {
  if (!file.present())
    throw new HistoryFault('vanished', `the history file ${file.path} was deleted or replaced`);
  try {
    return f();
  } catch (error) {
    throw file.fault(error);
  }
}

const ops: Record<string, (...args: never[]) => unknown> = {
  append: (records: PackedRecords, events: Parameters<SqliteWriter['append']>[1]) =>
    write(() => writer.append(unpackRecords(records), events)),
  prune: (now: number) => write(() => writer.prune(now, options.retentionMs, options.maxBytes)),
  range: (q: Parameters<SqliteReader['range']>[0]) => reader.range(q),
  latest: (filter: string, limit: number) => reader.latest(filter, limit),
  topics: (filter: string, limit: number) => reader.topics(filter, limit),
  summarize: (q: Parameters<SqliteReader['summarize']>[0]) => reader.summarize(q),
  silent: (q: Parameters<SqliteReader['silent']>[0]) => reader.silent(q),
  offline: (from: number, to: number) => reader.offline(from, to),
  stats: () => {
    const oldest = file.get('SELECT min(first_at) AS at FROM topics')?.at;
    return {
      bytesOnDisk: file.fileBytes(),
      records: writer.records,
      oldestAt: oldest === null || oldest === undefined ? undefined : Number(oldest),
      topics: writer.topicCount,
      replaysIgnored: writer.replaysIgnored,
      copiesRemoved: writer.copiesRemoved,
    };
  },
  backup: (destination: string) => file.backupTo(destination),
  close: () => file.close(),
};

port.on('message', (req: WorkerRequest) => {
  const op = ops[req.op];
  try {
    if (op === undefined) throw new Error(`unknown history operation ${req.op}`);
    const result = (op as (...args: unknown[]) => unknown)(...req.args);
    post({ id: req.id, ok: true, result });
    if (req.op === 'close') port.close();
  } catch (error) {
    post({ id: req.id, ok: false, error: workerError(error) });
  }
});
post({ type: 'ready' });
