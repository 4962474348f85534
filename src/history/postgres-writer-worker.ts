/**
 * The PostgreSQL history's writer in a worker thread (postgres-writer.ts starts it): numeric
 * extraction, Sparkplug naming, building the statement arrays and the driver's encoding of each
 * batch run here, off the thread that ingests MQTT, over a connection of its own. Reads, pruning
 * and migrations stay on the main thread's pool.
 *
 * Protocol: workerData is WriterWorkerData; requests {id, op: 'append' | 'forget' | 'close',
 * args}; replies {id, ok, result} or {id, ok: false, error: {name, message, kind?}} (kind: a
 * HistoryFault's, so the main thread raises the same fault).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThread } from './thread-priority.js';
import { extractNumeric } from './numeric.js';
import { PgPool, type PgConnect } from './postgres.js';
import { PgWriter } from './postgres-write.js';
import { SparkplugFields } from './sparkplug-fields.js';
import { unpackRecords, type PackedRecords } from './records-transfer.js';
import type { LinkEvent } from './types.js';
import { workerError, type CallReply } from './worker-calls.js';

export interface WriterWorkerData {
  readonly connect: PgConnect;
  readonly maxFieldsPerMessage: number;
  readonly broker: string | undefined;
  readonly session: string | undefined;
}

export type WriterRequest =
  | { readonly id: number; readonly op: 'append'; readonly args: [PackedRecords, LinkEvent[]] }
  | { readonly id: number; readonly op: 'forget' | 'close'; readonly args: [] };

export type WriterReply = CallReply;

const data = workerData as WriterWorkerData;
const port = parentPort;
// Below the ingest thread: under contention ingest gets the CPU first (thread-priority.ts).
lowerThisThread();
if (port === null) throw new Error('postgres-writer-worker.ts runs as a worker thread');

// One connection: batches are written one at a time.
const db = new PgPool({ ...data.connect, maxConnections: 1 });
const sparkplug = new SparkplugFields();
const writer = new PgWriter(
  db,
  data.maxFieldsPerMessage,
  (topic, payload, max) => sparkplug.fields(topic, payload, max) ?? extractNumeric(payload, max),
  sparkplug,
  data.broker,
  data.session,
);

port.on('message', (request: WriterRequest) => {
  void handle(request).then(
    (result) => port.postMessage({ id: request.id, ok: true, result } satisfies WriterReply),
    (error: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: workerError(error) } satisfies WriterReply),
  );
});

async function handle(request: WriterRequest): Promise<unknown> {
  if (request.op === 'append') {
    const replays = writer.replaysIgnored;
    const copies = writer.copiesRemoved;
    await writer.append(unpackRecords(request.args[0]), request.args[1]);
    return { replays: writer.replaysIgnored - replays, copies: writer.copiesRemoved - copies };
  }
  if (request.op === 'forget') {
    writer.forget();
    return undefined;
  }
  await db.close();
  setImmediate(() => port?.close());
  return undefined;
}
