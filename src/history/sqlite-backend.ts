/**
 * The SQLite history backend on the main thread: implements HistoryBackend by posting each call
 * to the worker (sqlite-worker.ts) that owns the connection, and resolving the promise by id.
 *
 * The worker file sits next to this module: sqlite-worker.js in dist/, sqlite-worker.ts under tsx
 * (tests, bench), which runs in the worker because a worker inherits the parent's execArgv
 * (`--import tsx`) and with it tsx's loader.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.js';
import { packRecords, transferList } from './records-transfer.js';
import { siblingWorker, WorkerCalls } from './worker-calls.js';
import {
  HistoryFault,
  HistoryOpenError,
  type HistoryBackend,
  type HistoryOptions,
  type HistoryRecord,
  type HistoryStats,
  type LatestResult,
  type LinkEvent,
  type OfflinePeriod,
  type RangeQuery,
  type RangeResult,
  type SilenceQuery,
  type SilenceResult,
  type SummaryQuery,
  type SummaryResult,
  type TopicsResult,
} from './types.js';

export class SqliteHistory implements HistoryBackend {
  private readonly calls = new WorkerCalls();
  private stopped: Error | undefined;

  private constructor(
    /** The worker thread; exposed for tests that kill it mid-batch. */
    readonly worker: Worker,
  ) {
    worker.on('message', (reply: WorkerReply) => this.calls.settle(reply));
    const stop = (error: Error) => {
      this.stopped ??= error;
      this.calls.failAll(this.stopped);
    };
    worker.on('error', (error: Error) =>
      stop(new HistoryFault('io', `the history worker failed: ${error.message}`)),
    );
    worker.on('exit', () => stop(new HistoryFault('io', 'the history worker has stopped')));
  }

  /** Opens (or creates) the file; rejects with HistoryOpenError naming the path. */
  static async open(options: HistoryOptions): Promise<SqliteHistory> {
    const worker = new Worker(siblingWorker('sqlite-worker', import.meta.url), { workerData: options });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        if (!('type' in reply)) return;
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (reply.type === 'ready') resolve();
        else reject(new HistoryOpenError(reply.message));
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        reject(new HistoryOpenError(`cannot open the history file ${options.location}: ${error.message}`));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new SqliteHistory(worker);
  }

  private call<T>(op: string, ...args: unknown[]): Promise<T> {
    return this.callMoving<T>(op, args, []);
  }

  private callMoving<T>(op: string, args: unknown[], transfer: readonly ArrayBuffer[]): Promise<T> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    return this.calls.call<T>(this.worker, { op, args } satisfies Omit<WorkerRequest, 'id'>, transfer);
  }

  append(records: readonly HistoryRecord[], events: readonly LinkEvent[]): Promise<void> {
    const packed = packRecords(records);
    return this.callMoving('append', [packed, events], transferList(packed));
  }

  range(query: RangeQuery): Promise<RangeResult> {
    return this.call('range', query);
  }

  latest(filter: string, limit: number): Promise<LatestResult> {
    return this.call('latest', filter, limit);
  }

  topics(filter: string, limit: number): Promise<TopicsResult> {
    return this.call('topics', filter, limit);
  }

  summarize(query: SummaryQuery): Promise<SummaryResult> {
    return this.call('summarize', query);
  }

  silent(query: SilenceQuery): Promise<SilenceResult> {
    return this.call('silent', query);
  }

  offline(from: number, to: number): Promise<readonly OfflinePeriod[]> {
    return this.call('offline', from, to);
  }

  prune(now: number): Promise<number> {
    return this.call('prune', now);
  }

  stats(): Promise<HistoryStats> {
    return this.call('stats');
  }

  backup(destination: string): Promise<void> {
    return this.call('backup', destination);
  }

  async close(): Promise<void> {
    if (this.stopped !== undefined) return;
    await this.call('close');
    this.stopped = new HistoryFault('io', 'the history is closed');
    await this.worker.terminate();
  }
}
