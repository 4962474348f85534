/**
 * The main thread's side of the PostgreSQL writer worker (postgres-writer-worker.ts): append()
 * posts a batch and resolves when the worker has committed it; a fault in the worker comes back
 * as the same HistoryFault. A worker that failed or stopped is started again on the next batch
 * (the recorder retries a failed batch), so one crash pauses history instead of ending it.
 *
 * The worker file sits next to this module: postgres-writer-worker.js in dist/, .ts under tsx
 * (tests, bench), as for the SQLite worker.
 */
import { Worker } from 'node:worker_threads';
import type { WriterReply, WriterRequest, WriterWorkerData } from './postgres-writer-worker.js';
import { HistoryFault, type HistoryRecord, type LinkEvent } from './types.js';
import { packRecords, transferList } from './records-transfer.js';
import { siblingWorker, WorkerCalls } from './worker-calls.js';

export class PgWriterThread {
  private worker: Worker | undefined;
  private readonly calls = new WorkerCalls();
  private closed = false;
  /** Retained replays not recorded again, counted by the worker. */
  replaysIgnored = 0;
  /** Resent copies of committed records not recorded again, counted by the worker. */
  copiesRemoved = 0;

  constructor(private data: WriterWorkerData) {}

  /** The schema the worker writes in, from its next start (before the first batch: the one chosen). */
  scope(schema: string): void {
    this.data = { ...this.data, connect: { ...this.data.connect, schema } };
  }

  /** The worker thread while it runs; exposed for tests that stop it mid-flood. */
  get thread(): Worker | undefined {
    return this.worker;
  }

  async append(records: readonly HistoryRecord[], events: readonly LinkEvent[]): Promise<void> {
    const packed = packRecords(records);
    const counted = await this.call<{ replays: number; copies: number }>(
      { op: 'append', args: [packed, events as LinkEvent[]] },
      false,
      transferList(packed),
    );
    this.replaysIgnored += counted.replays;
    this.copiesRemoved += counted.copies;
  }

  /** Forget cached ids and partitions (after pruning removed some). */
  forget(): void {
    if (this.worker !== undefined) void this.call({ op: 'forget', args: [] }).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await this.call({ op: 'close', args: [] }, true).catch(() => undefined);
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(siblingWorker('postgres-writer-worker', import.meta.url), {
      workerData: this.data,
    });
    worker.on('message', (reply: WriterReply) => this.calls.settle(reply));
    const stop = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.calls.failAll(error);
    };
    worker.on('error', (error: Error) =>
      stop(new HistoryFault('io', `the history writer failed: ${error.message}`)),
    );
    worker.on('exit', () => stop(new HistoryFault('io', 'the history writer has stopped')));
    this.worker = worker;
    return worker;
  }

  private call<T>(
    request: Omit<WriterRequest, 'id'>,
    closing = false,
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<T> {
    if (this.closed && !closing) return Promise.reject(new HistoryFault('io', 'the history is closed'));
    return this.calls.call<T>(this.started(), request, transfer);
  }
}
