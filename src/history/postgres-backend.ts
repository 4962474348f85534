/**
 * The PostgreSQL history backend (HISTORY_URL): a connection pool (postgres.ts), the schema
 * migrated at start (postgres-schema.ts), batches written by postgres-write.ts, reads by
 * postgres-read.ts, pruning by postgres-prune.ts. All I/O is asynchronous on the main thread; no
 * worker thread is needed, the database does the work in its own processes.
 *
 * A database that cannot be reached at start (down, wrong password, TLS refused) does not stop
 * the bridge: open() returns, the first write fails with a HistoryFault in operator words, the
 * recorder pauses with it and retries; each try connects and migrates again until it works. A
 * database that is ours but newer, or that refuses the schema (HistoryOpenError), stops the start.
 */
import { TopicPolicy } from '../policy/acl.js';
import { PgPool, type Pg, type PgConnect } from './postgres.js';
import { pruneStep, usedBytes } from './postgres-prune.js';
import { PgReader } from './postgres-read.js';
import { migrate, recordedBroker, SCHEMA, settleStorage, type Storage } from './postgres-schema.js';
import { PgWriterThread } from './postgres-writer.js';
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

/** How long stats() waits for the database before it answers with the last counts. */
const STATS_WAIT_MS = 1000;

export interface PostgresOptions extends Omit<HistoryOptions, 'location'> {
  /** The connection; its `schema` scopes this history (one schema per broker). */
  readonly connect: PgConnect;
  /**
   * Several brokers in one database: the schema that is this broker's, given the broker the main
   * schema names (undefined: none yet). Asked once, at the first connection (broker-history.ts).
   */
  readonly choose?: (mainOwner: string | undefined) => string;
}

export class PostgresHistory implements HistoryBackend {
  private readonly db: PgPool;
  private readonly reader: PgReader;
  /** The writer thread; exposed for tests. */
  readonly writer: PgWriterThread;
  private migrated: Promise<void> | undefined;
  private closed = false;
  private lastStats: HistoryStats | undefined;
  /** The last write failed (the recorder is paused on it). */
  private failing = false;
  /** Why the last attempt to reach the database failed (undefined: reached). */
  startFault: HistoryFault | undefined;
  /** How the history is stored (partitions or TimescaleDB hypertables), once migrated. */
  private storage: Storage | undefined;
  /** The schema was chosen (options.choose); it stays for the life of the process. */
  private chosen = false;

  private constructor(private readonly options: PostgresOptions) {
    this.db = new PgPool(options.connect);
    this.reader = new PgReader(this.db, new TopicPolicy(options.policy));
    // The writer (numeric extraction, Sparkplug naming, the driver's encoding) runs in a worker
    // thread over a connection of its own, off the thread that ingests MQTT.
    this.writer = new PgWriterThread({
      connect: options.connect,
      maxFieldsPerMessage: options.maxFieldsPerMessage,
      broker: options.broker,
      session: options.session,
    });
  }

  /**
   * Connects and migrates. A database that cannot be reached is not an error here (startFault
   * says why; writes fail with it until it is reachable); a schema it cannot use is.
   */
  static async open(options: PostgresOptions): Promise<PostgresHistory> {
    const h = new PostgresHistory(options);
    try {
      await h.ready();
    } catch (error) {
      if (error instanceof HistoryOpenError) {
        await h.db.close();
        throw error;
      }
      h.startFault = error instanceof HistoryFault ? error : new HistoryFault('io', String(error));
    }
    return h;
  }

  /** The schema is migrated on this database (once per process; again after a failure). */
  private ready(): Promise<void> {
    const { choose } = this.options;
    const place =
      choose === undefined || this.chosen
        ? undefined
        : async (s: Pg) => {
            const schema = choose(await recordedBroker(s, SCHEMA));
            this.db.scope(schema);
            this.writer.scope(schema);
            this.chosen = true;
          };
    this.migrated ??= migrate(this.db, this.options.broker ?? 'default', place).then(
      async () => {
        this.storage = await settleStorage(this.db, this.options.retentionMs);
        this.startFault = undefined;
      },
      (error: unknown) => {
        this.migrated = undefined;
        throw error;
      },
    );
    return this.migrated;
  }

  private async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) throw new HistoryFault('io', 'the history is closed');
    await this.ready();
    return f();
  }

  append(records: readonly HistoryRecord[], events: readonly LinkEvent[]): Promise<void> {
    return this.run(() => this.writer.append(records, events)).then(
      () => {
        this.failing = false;
      },
      (error: unknown) => {
        this.failing = true;
        throw error;
      },
    );
  }

  range(query: RangeQuery): Promise<RangeResult> {
    return this.run(() => this.reader.range(query));
  }

  latest(filter: string, limit: number): Promise<LatestResult> {
    return this.run(() => this.reader.latest(filter, limit));
  }

  topics(filter: string, limit: number): Promise<TopicsResult> {
    return this.run(() => this.reader.topics(filter, limit));
  }

  summarize(query: SummaryQuery): Promise<SummaryResult> {
    return this.run(() => this.reader.summarize(query));
  }

  silent(query: SilenceQuery): Promise<SilenceResult> {
    return this.run(() => this.reader.silent(query));
  }

  offline(from: number, to: number): Promise<readonly OfflinePeriod[]> {
    return this.run(() => this.reader.offline(from, to));
  }

  prune(now: number): Promise<number> {
    return this.run(async () => {
      const step = await pruneStep(this.db, now, this.options.retentionMs, this.options.maxBytes);
      if (step.removed > 0) this.writer.forget();
      return step.removed;
    });
  }

  /**
   * The counts, from the database; while writes fail (history paused) and it does not answer
   * within STATS_WAIT_MS (slow, locked, unreachable), the last counts it gave, so mqtt_status
   * answers at once.
   */
  stats(): Promise<HistoryStats> {
    const fresh = this.freshStats().then((s) => {
      this.lastStats = s;
      return s;
    });
    return new Promise<HistoryStats>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.failing && this.lastStats !== undefined) resolve(this.lastStats);
      }, STATS_WAIT_MS);
      timer.unref();
      fresh.then(
        (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private freshStats(): Promise<HistoryStats> {
    return this.run(async () => {
      const [row] = await this.db.query(
        `SELECT count(*) AS n, coalesce(sum(records), 0) AS r, min(first_at) AS oldest FROM ${this.db.schema}.topics`,
      );
      const oldest = row?.oldest;
      return {
        bytesOnDisk: await usedBytes(this.db),
        records: Number(row?.r ?? 0),
        oldestAt: oldest === null || oldest === undefined ? undefined : Number(oldest),
        topics: Number(row?.n ?? 0),
        replaysIgnored: this.writer.replaysIgnored,
        copiesRemoved: this.writer.copiesRemoved,
        ...(this.storage !== undefined ? { storage: this.storage } : {}),
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.db.close();
  }
}
