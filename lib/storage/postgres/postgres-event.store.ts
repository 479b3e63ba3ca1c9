/** The PostgreSQL driver's facade: the store users construct, wiring the parts below into the queued-store skeleton. */
import { randomUUID } from 'node:crypto';
import { LedgerConfigError } from '../../errors/ledger-config.error';
import { RunEvent } from '../../events/run-event.interface';
import { ledgerTelemetry, telemetryAttributes } from '../../metrics/ledger-telemetry';
import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';
import { loadPg } from '../../peers/load-pg';
import { EventQuery, FeedBatch, TailOptions } from '../event-store';
import { followFeed } from '../feed-follow-loop';
import { EventRow, QueuedEventStore, QueuedEventStoreOptions, StoredCounts } from '../queued-event-store';
import { ProgressListener, StoreVerification } from '../store-verification.interface';
import { FeedWaker } from './feed-waker';
import type { PgPoolLike } from './pg-pool.interface';
import { QueuedRow, appendBatch, toQueuedRow } from './postgres-append';
import type { PostgresContext } from './postgres-context';
import { deadLetterPolicy } from './postgres-dead-letters';
import { postgresFeedSource } from './postgres-feed.source';
import { checkReadableSchema, dropTables, migrateTables } from './postgres-migrations';
import { eventsTableExists, heldEventIds, readStoredBatches } from './postgres-reads';
import { compactRows, replaceRows } from './postgres-rewrite';
import { readStoredCounts } from './postgres-stats';
import type { PostgresStorageOptions } from './postgres-storage-options.interface';
import { verifyTable } from './postgres-verification';
import { describePostgresTarget } from './postgres-target';
import { openWithRetry, StartupRetry } from './startup-retry';
import { tableNames } from './table-names';

/** Options of a {@link PostgresEventStore}: where the events are, and how its writer behaves. */
export interface PostgresEventStoreOptions extends QueuedEventStoreOptions, PostgresStorageOptions {
  /**
   * Create or migrate the tables on open. `false` opens them for reading as they are (the
   * `nestjs-ledger` read commands): nothing is created or changed, and `open()` fails naming the
   * version found and the one needed when the table is older than reads support. @default true
   */
  migrate?: boolean | undefined;
}

/**
 * The PostgreSQL store: the same contract as the NDJSON store, on a table
 * every replica reaches. Each event gets a global position (an identity
 * column: increasing, with gaps where a transaction rolled back). A batch of
 * appends is one transaction holding one `COPY`; `flush()` resolves once it
 * committed. Writes are idempotent on `event_id`: when a batch meets an id
 * already stored (retried after a lost acknowledgement), it is rolled back and
 * written again as `INSERT ... ON CONFLICT DO NOTHING`, so it is stored once.
 *
 * This class wires the driver's parts (one file a role, each a function over a
 * {@link PostgresContext}) into the {@link QueuedEventStore} skeleton.
 */
export class PostgresEventStore extends QueuedEventStore<QueuedRow> {
  readonly sharedByReplicas = true;
  protected readonly driver = 'postgres';
  private readonly context: PostgresContext;
  private readonly ownsPool: boolean;
  private readonly leaseMs: number;
  private readonly listen: boolean;
  private readonly pollIntervalMs: number;
  private readonly migrateOnOpen: boolean;
  /** Ends every running tail at close. */
  private readonly tails = new Set<AbortController>();
  private readonly holder = randomUUID();
  private opening: Promise<void> | null = null;
  private opened = false;
  /** Rows this store inserted, also known while the server is unreachable. */
  private inserted = 0;
  /** How `open()` retries at startup; its signal is aborted when the store closes. */
  private readonly startupRetry: StartupRetry;
  private readonly closing = new AbortController();

  constructor(options: PostgresEventStoreOptions) {
    super(options, (store) =>
      deadLetterPolicy(
        () => (store as PostgresEventStore).context,
        (ids) => (store as PostgresEventStore).notifyRefused(ids),
      ),
    );
    const names = tableNames(options.schema, options.table);
    this.leaseMs = options.compactionLeaseMs ?? LEDGER_DEFAULTS.compactionLeaseMs;
    this.listen = options.listen ?? true;
    this.pollIntervalMs = options.pollIntervalMs ?? LEDGER_DEFAULTS.feedPollIntervalMs;
    this.migrateOnOpen = options.migrate ?? true;
    let pool: PgPoolLike;
    if (options.pool) {
      pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      const { Pool: PgPool } = loadPg();
      pool = new PgPool({ connectionString: options.connectionString, connectionTimeoutMillis: 10_000, max: 4 });
      this.ownsPool = true;
    } else {
      throw new LedgerConfigError('storage', 'the PostgreSQL storage needs a connectionString or a pool');
    }
    this.context = { pool, names, logger: this.logger, maxEventBytes: this.maxEventBytes, invalidPositions: new Set() };
    this.startupRetry = {
      retryAttempts: options.retryAttempts ?? LEDGER_DEFAULTS.startupRetryAttempts,
      retryDelayMs: options.retryDelayMs ?? LEDGER_DEFAULTS.startupRetryDelayMs,
      target: describePostgresTarget(options.connectionString, pool),
      logger: this.logger,
      signal: this.closing.signal,
    };
    // An idle client whose server went away emits 'error'; unhandled it would crash the app.
    pool.on('error', (err) => this.logger.warn(`PostgreSQL connection lost: ${err.message}`));
  }

  /** Rows this store inserted since it was created (rows already in the table are skipped, not counted). */
  get rowsInserted(): number {
    return this.inserted;
  }

  /** Writes skip events the table holds (its unique `event_id`): the rows inserted, as {@link rowsInserted}. */
  override eventsWrittenAnew(): number {
    return this.inserted;
  }

  /**
   * Connects and creates or migrates the schema (idempotent; safe when several replicas start at
   * once), retrying as `retryAttempts` and `retryDelayMs` say; with `migrate: false`, checks that the
   * tables can be read as they are.
   *
   * @throws LedgerStorageUnavailableError when the server cannot be reached or refuses (after the retries).
   */
  open(): Promise<void> {
    if (this.opened) return Promise.resolve();
    this.opening ??= openWithRetry(() => (this.migrateOnOpen ? migrateTables(this.context) : checkReadableSchema(this.context)), this.startupRetry)
      .then(() => {
        this.opened = true;
      })
      .finally(() => (this.opening = null));
    return this.opening;
  }

  async *readBatches(query: EventQuery = {}): AsyncIterable<RunEvent[]> {
    await this.open();
    yield* readStoredBatches(this.context, query);
  }

  /** Which of `eventIds` the table holds now (by its unique index on `event_id`). */
  override async heldEventIds(eventIds: readonly string[]): Promise<Set<string>> {
    await this.open();
    return heldEventIds(this.context, eventIds);
  }

  /** Whether the events table exists (checked without creating anything). */
  exists(): Promise<boolean> {
    return eventsTableExists(this.context);
  }

  /**
   * Reads every row (in position order, pages of 5000) and reports those that are not valid
   * run events, with their position and `event_id`, and rows whose `event_id` differs from the
   * event's own `eventId`. Changes nothing; the indexes are PostgreSQL's own.
   */
  async verify(onProgress?: ProgressListener): Promise<StoreVerification> {
    await this.open();
    return verifyTable(this.context, onProgress);
  }

  protected replaceContent(rows: Iterable<EventRow>): Promise<void> {
    return replaceRows(this.context, rows);
  }

  /**
   * Keeps the newest `maxEvents` by timestamp (later position first among
   * equal timestamps). With several replicas, only the first caller within
   * `compactionLeaseMs` runs it; the others return 0.
   */
  protected compactContent(maxEvents: number): Promise<number> {
    return compactRows(this.context, maxEvents, { holder: this.holder, leaseMs: this.leaseMs });
  }

  /** Counts as the server gives them; a server that does not answer within 3 s fails it (`getStats()` then gives the last known counts). */
  protected readCounts(): Promise<StoredCounts> {
    return readStoredCounts(this.context, () => this.open());
  }

  protected describeLocation(): string {
    return this.context.names.qualified;
  }

  protected toQueued(event: RunEvent, line: string): QueuedRow {
    return toQueuedRow(event, line);
  }

  protected async writeBatch(batch: QueuedRow[]): Promise<void> {
    await this.open();
    this.inserted += await appendBatch(this.context, batch);
  }

  protected async releaseResources(): Promise<void> {
    this.stopTails();
    if (this.ownsPool) await this.context.pool.end().catch(() => undefined);
  }

  /** Drops the ledger's tables (events, leases, dead letters, feed, schema version) and its trigger function. */
  protected async deleteContent(): Promise<void> {
    this.stopTails();
    try {
      await dropTables(this.context);
    } finally {
      if (this.ownsPool) await this.context.pool.end().catch(() => undefined);
    }
  }

  private stopTails(): void {
    this.closing.abort();
    for (const tail of this.tails) tail.abort();
  }

  /**
   * The feed of every replica's events, gap-free. Cursors are
   * `epoch:tx:position`. Rows are read in (inserting transaction, position)
   * order and only below the oldest transaction still running, so a batch that
   * commits after a newer one is never passed over; a tail wakes on `NOTIFY`
   * and polls every `pollIntervalMs` as well (often while newer rows wait for
   * an older transaction). After a lost connection it resumes from its cursor.
   */
  async *tail(options: TailOptions = {}): AsyncIterable<FeedBatch> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) stop.abort();
    this.tails.add(stop);
    const { pool, names, logger } = this.context;
    const waker = new FeedWaker(pool, names.channel, this.listen, this.pollIntervalMs, logger);
    try {
      await this.open();
      yield* followFeed(postgresFeedSource(this.context, options.known), waker, {
        after: options.after,
        signal: stop.signal,
        pollIntervalMs: this.pollIntervalMs,
        logger,
        location: names.qualified,
        onLiveDelay: (seconds) => ledgerTelemetry.feedDelay(telemetryAttributes(this), seconds),
      });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.tails.delete(stop);
      await waker.close();
    }
  }
}
