/**
 * Calls to a history worker thread (the SQLite worker, the PostgreSQL writer), matched to their
 * replies by id: a reply's error becomes the same HistoryFault (by its kind) or an Error of the
 * same name; a worker that fails or exits rejects every call still waiting.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { HistoryFault } from './types.js';

/**
 * A worker module next to the calling module: `{name}.js` in dist/, `{name}.ts` under tsx (tests,
 * bench), which runs in the worker because a worker inherits the parent's execArgv.
 */
export function siblingWorker(name: string, from: string): URL {
  const js = new URL(`./${name}.js`, from);
  return existsSync(fileURLToPath(js)) ? js : new URL(`./${name}.ts`, from);
}

/** An error as a worker sends it back. */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  readonly kind?: HistoryFault['kind'];
}

export type CallReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WorkerError };

/** An error as the worker sends it: a HistoryFault keeps its kind. */
export function workerError(error: unknown): WorkerError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message, ...(e instanceof HistoryFault ? { kind: e.kind } : {}) };
}

export class WorkerCalls {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  /** Post `request` with a new id (`transfer`: buffers moved, not copied); resolves with the reply's result. */
  call<T>(worker: Worker, request: object, transfer: readonly ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject });
      worker.postMessage({ ...request, id }, [...transfer]);
    });
  }

  /** Settle the call a reply answers (replies without an id are not calls' and are ignored). */
  settle(reply: CallReply | object): void {
    if (!('id' in reply)) return;
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else if (reply.error.kind !== undefined)
      p.reject(new HistoryFault(reply.error.kind, reply.error.message));
    else p.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
  }

  /** Reject every call still waiting (the worker failed or stopped). */
  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
