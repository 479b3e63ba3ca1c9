import { createHash, randomUUID } from 'node:crypto';
import { LedgerConfigError } from '../../errors/ledger-config.error';
import { LedgerEventRefusedError } from '../../errors/ledger-event-refused.error';
import { RunEvent } from '../../events/run-event.interface';
import { MAX_TIMESTAMP_MS, restoreStoredEvent } from '../../events/run-event.validator';
import { serializeRunEvent } from '../../events/run-event.serializer';
import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';
import { EventQuery, FeedBatch, TailOptions } from '../event-store';
import { RefusedItem } from '../group-commit.queue';
import { EventRow, QueuedEventStore, QueuedEventStoreOptions, StoredCounts } from '../queued-event-store';
import { loadPg } from './load-pg';
import type { PgClientLike, PgPoolLike } from './pg-pool.interface';
import type { PostgresStorageOptions } from './postgres-storage-options.interface';
import type { LoggerService } from '@nestjs/common';
import { sqlIdentifier } from './sql-identifier';
import { copyTextRow } from './copy-text-row';
import { DamagedRecord, MAX_DAMAGED_LISTED, ProgressListener, StoreVerification } from '../store-verification.interface';
import { whyNotAnEvent } from '../../events/why-not-an-event';
import { ledgerTelemetry, telemetryAttributes } from '../../metrics/ledger-telemetry';
import { from as copyFrom } from 'pg-copy-streams';

/** Options of a {@link PostgresEventStore}: where the events are, and how its writer behaves. */
export interface PostgresEventStoreOptions extends QueuedEventStoreOptions, PostgresStorageOptions {}

/**
 * A queued event with its COPY row, UTF-8 encoded when it is logged (so encoding overlaps the previous
 * batch's commit, and the bytes wait outside the JavaScript heap). The rare paths that need the JSON
 * alone (a retried batch, a refused event) serialise again.
 */
interface QueuedRow {
  event: RunEvent;
  copyRow: Buffer;
}

/** Rows per INSERT statement of the fallback path; a batch is several statements in one transaction. */
const INSERT_CHUNK = 5_000;
/** Rows encoded per write to a rewrite's COPY stream. */
const COPY_CHUNK = 5_000;
/** SQLSTATE unique_violation: a COPY met an event_id already stored. */
const UNIQUE_VIOLATION = '23505';
/** Rows per page when streaming reads. */
const READ_PAGE = 5_000;
/** How long `getStats()` waits for the server before answering with the last known counts. */
const STATS_TIMEOUT_MS = 3_000;
/**
 * SQLSTATE classes in which the server refuses the data itself, so retrying the
 * same rows cannot succeed: 22 data exception, 23 integrity constraint
 * violation (a CHECK or NOT NULL of yours), 54 program limit exceeded (a value
 * too large for an index). Any other failure is treated as transient.
 */
const REFUSED_DATA_CLASSES = new Set(['22', '23', '54']);

/** Whether PostgreSQL refused the data of a statement (see {@link REFUSED_DATA_CLASSES}). */
export function isDataRefusal(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.length === 5 && REFUSED_DATA_CLASSES.has(code.slice(0, 2));
}
/** Current schema version; MIGRATIONS[i] takes a store from version i to i + 1. */
const MIGRATIONS: ((names: TableNames) => string[])[] = [
  (n) => [
    `CREATE TABLE IF NOT EXISTS ${n.events} (
       position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       event_id text NOT NULL UNIQUE,
       task_id text NOT NULL,
       ts double precision NOT NULL,
       event json NOT NULL,
       stored_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX IF NOT EXISTS ${n.tsIndex} ON ${n.events} (ts)`,
    `CREATE INDEX IF NOT EXISTS ${n.taskIndex} ON ${n.events} (task_id, position)`,
    `CREATE TABLE IF NOT EXISTS ${n.leases} (name text PRIMARY KEY, holder text NOT NULL, acquired_at timestamptz NOT NULL)`,
  ],
  // Version 3 (below): the feed.
  // Version 2: the dead-letter table of events the server refused.
  (n) => [
    `CREATE TABLE IF NOT EXISTS ${n.refused} (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       refused_at timestamptz NOT NULL DEFAULT now(),
       event_id text NOT NULL,
       sqlstate text,
       error text NOT NULL,
       event text NOT NULL)`,
  ],
  // Version 3: the replica feed. Each row records the id of the transaction that inserted it; a
  // reader takes rows only below the oldest transaction still running (the snapshot's xmin), so a
  // transaction that commits late can never be passed over. The epoch counts rewrites.
  (n) => [
    `ALTER TABLE ${n.events} ADD COLUMN IF NOT EXISTS tx xid8 NOT NULL DEFAULT pg_current_xact_id()`,
    `CREATE INDEX IF NOT EXISTS ${n.feedIndex} ON ${n.events} (tx, position)`,
    `CREATE TABLE IF NOT EXISTS ${n.feed} (epoch bigint NOT NULL)`,
    `INSERT INTO ${n.feed} (epoch) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ${n.feed})`,
  ],
  // Version 4: every statement that inserts rows notifies listening tails when its transaction
  // commits, so an append is one COPY and one round trip. Tasks' reads page in feed order.
  (n) => [
    `CREATE OR REPLACE FUNCTION ${n.notifyFunction}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN PERFORM pg_notify('${n.channel}', 'append'); RETURN NULL; END $$`,
    `CREATE TRIGGER ${n.notifyTrigger} AFTER INSERT ON ${n.events} FOR EACH STATEMENT EXECUTE FUNCTION ${n.notifyFunction}()`,
    `DROP INDEX IF EXISTS ${n.schema}.${n.taskIndex}`,
    `CREATE INDEX ${n.taskIndex} ON ${n.events} (task_id, tx, position)`,
  ],
];

interface TableNames {
  schema: string;
  events: string;
  leases: string;
  versions: string;
  refused: string;
  tsIndex: string;
  taskIndex: string;
  feedIndex: string;
  /** The trigger function that notifies the channel after inserts, and its trigger. */
  notifyFunction: string;
  notifyTrigger: string;
  /** One row: the feed's epoch, bumped by every rewrite (compaction, writeAll). */
  feed: string;
  /** The NOTIFY channel of this table. */
  channel: string;
  /** Unquoted `schema.table`, for regclass and lock keys. */
  qualified: string;
  /** The dead-letter table, as the README and errors name it. */
  refusedQualified: string;
}

/**
 * The PostgreSQL store: the same contract as the NDJSON store, on a table
 * every replica reaches. Each event gets a global position (an identity
 * column: increasing, with gaps where a transaction rolled back). A batch of
 * appends is one transaction holding one `COPY`; `flush()` resolves once it
 * committed. Writes are idempotent on `event_id`: when a batch meets an id
 * already stored (retried after a lost acknowledgement), it is rolled back and
 * written again as `INSERT ... ON CONFLICT DO NOTHING`, so it is stored once.
 */
export class PostgresEventStore extends QueuedEventStore<QueuedRow> {
  readonly sharedByReplicas = true;
  protected readonly driver = 'postgres';
  private readonly names: TableNames;
  private readonly pool: PgPoolLike;
  private readonly ownsPool: boolean;
  private readonly leaseMs: number;
  private readonly listen: boolean;
  private readonly pollIntervalMs: number;
  /** Ends every running tail at close. */
  private readonly tails = new Set<AbortController>();
  private readonly holder = randomUUID();
  private opening: Promise<void> | null = null;
  private opened = false;
  /** Positions of rows that are not valid events, seen by reads (skipped, counted as corrupt). */
  private readonly invalidPositions = new Set<string>();
  /** Counts as last read from the server, for `getStats()` while it is unreachable. */
  private inserted = 0;

  constructor(options: PostgresEventStoreOptions) {
    super(options, (store) => (store as PostgresEventStore).refusalPolicy());
    const schemaName = options.schema ?? 'public';
    const tableName = options.table ?? 'ledger_events';
    const schema = sqlIdentifier('storage.schema', schemaName);
    sqlIdentifier('storage.table', tableName);
    if (tableName.length > 48) throw new LedgerConfigError('storage.table', 'must be at most 48 characters (index names are derived from it)');
    const name = (suffix: string) => `${schema}."${tableName}${suffix}"`;
    this.names = {
      schema,
      events: name(''),
      leases: name('_leases'),
      versions: name('_schema'),
      refused: name('_rejected'),
      tsIndex: `"${tableName}_ts_idx"`,
      taskIndex: `"${tableName}_task_idx"`,
      feedIndex: `"${tableName}_feed_idx"`,
      notifyFunction: name('_notify'),
      notifyTrigger: `"${tableName}_notify"`,
      feed: name('_feed'),
      channel: `nestjs_ledger_${createHash('sha256').update(`${schemaName}.${tableName}`).digest('hex').slice(0, 24)}`,
      qualified: `${schema}."${tableName}"`,
      refusedQualified: `${schema}."${tableName}_rejected"`,
    };
    this.leaseMs = options.compactionLeaseMs ?? LEDGER_DEFAULTS.compactionLeaseMs;
    this.listen = options.listen ?? true;
    this.pollIntervalMs = options.pollIntervalMs ?? LEDGER_DEFAULTS.feedPollIntervalMs;
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      const { Pool: PgPool } = loadPg();
      this.pool = new PgPool({ connectionString: options.connectionString, connectionTimeoutMillis: 10_000, max: 4 });
      this.ownsPool = true;
    } else {
      throw new LedgerConfigError('storage', 'the PostgreSQL storage needs a connectionString or a pool');
    }
    // An idle client whose server went away emits 'error'; unhandled it would crash the app.
    this.pool.on('error', (err) => this.logger.warn(`PostgreSQL connection lost: ${err.message}`));
  }

  /** A batch the server refuses for good is split until the refused events are isolated and set aside. */
  private refusalPolicy() {
    return {
      isPermanent: isDataRefusal,
      setAside: (refused: RefusedItem<QueuedRow>[]) => this.setAside(refused),
      errorFor: (refused: RefusedItem<QueuedRow>[]) =>
        new LedgerEventRefusedError(
          refused.map((r) => r.item.event.eventId),
          this.names.refusedQualified,
          refused[0].error,
        ),
    };
  }

  /** Rows this store inserted since it was created (rows already in the table are skipped, not counted). */
  get rowsInserted(): number {
    return this.inserted;
  }

  /** Connects and creates or migrates the schema (idempotent; safe when several replicas start at once). */
  open(): Promise<void> {
    if (this.opened) return Promise.resolve();
    this.opening ??= this.migrate()
      .then(() => {
        this.opened = true;
      })
      .finally(() => (this.opening = null));
    return this.opening;
  }

  async *readBatches(query: EventQuery = {}): AsyncIterable<RunEvent[]> {
    await this.open();
    // Store order: by inserting transaction, then position (the order the feed delivers).
    const conditions = ['(tx, position) > ($1::xid8, $2::bigint)'];
    const params: unknown[] = ['0', 0];
    if (query.from !== undefined) conditions.push(`ts >= $${params.push(query.from)}`);
    if (query.to !== undefined) conditions.push(`ts <= $${params.push(query.to)}`);
    if (query.taskId !== undefined) conditions.push(`task_id = $${params.push(query.taskId)}`);
    // (The text form of tx gets another name: an output column named tx would make ORDER BY tx sort text.)
    const sql = `SELECT tx::text AS tx_text, position, event_id, event FROM ${this.names.events} WHERE ${conditions.join(' AND ')} ORDER BY tx, position LIMIT ${READ_PAGE}`;
    const invalidBefore = this.invalidPositions.size;
    try {
      for (;;) {
        const { rows }: { rows: { tx_text: string; position: string; event_id: string; event: unknown }[] } = await this.pool.query(sql, params);
        if (rows.length === 0) return;
        params[0] = rows[rows.length - 1].tx_text;
        params[1] = rows[rows.length - 1].position;
        const batch: RunEvent[] = [];
        for (const row of rows) {
          // Rows are validated like logEvent input: a row written by another tool or edited by hand never reaches memory malformed.
          const event = restoreStoredEvent(row.event, this.maxEventBytes, () => row.event_id);
          if (event) batch.push(event);
          else this.invalidPositions.add(row.position);
        }
        if (batch.length > 0) yield batch;
        if (rows.length < READ_PAGE) return;
      }
    } finally {
      const found = this.invalidPositions.size - invalidBefore;
      if (found > 0)
        this.logger.warn(`${found} row(s) of ${this.names.qualified} are not valid run events; they are skipped and counted in corruptLines`);
    }
  }

  /** Whether the events table exists (checked without creating anything). */
  async exists(): Promise<boolean> {
    const { rows }: { rows: { table: string | null }[] } = await this.pool.query('SELECT to_regclass($1)::text AS table', [this.names.qualified]);
    return rows[0].table !== null;
  }

  /**
   * Reads every row (in position order, pages of 5000) and reports those that are not valid
   * run events, with their position and `event_id`, and rows whose `event_id` differs from the
   * event's own `eventId`. Changes nothing; the indexes are PostgreSQL's own.
   */
  async verify(onProgress?: ProgressListener): Promise<StoreVerification> {
    await this.open();
    const { rows: counted }: { rows: { n: string }[] } = await this.pool.query(`SELECT count(*) AS n FROM ${this.names.events}`);
    const total = Number(counted[0].n);
    const damaged: DamagedRecord[] = [];
    let damagedCount = 0;
    let records = 0;
    let events = 0;
    let after = '0';
    for (;;) {
      const { rows }: { rows: { position: string; event_id: string; event: string }[] } = await this.pool.query(
        `SELECT position, event_id, event::text AS event FROM ${this.names.events} WHERE position > $1 ORDER BY position LIMIT ${READ_PAGE}`,
        [after],
      );
      for (const row of rows) {
        records++;
        const event = restoreStoredEvent(JSON.parse(row.event), this.maxEventBytes, () => row.event_id);
        const reason = !event
          ? whyNotAnEvent(row.event, this.maxEventBytes)
          : event.eventId !== row.event_id
            ? `event_id column ${JSON.stringify(row.event_id)} differs from the event's eventId ${JSON.stringify(event.eventId)}`
            : null;
        if (reason === null) events++;
        else if (damagedCount++ < MAX_DAMAGED_LISTED) damaged.push({ position: row.position, eventId: row.event_id, reason });
      }
      onProgress?.(records, Math.max(total, records));
      if (rows.length < READ_PAGE) break;
      after = rows[rows.length - 1].position;
    }
    return { sound: damagedCount === 0, records, events, damaged, damagedCount, indexProblems: [], notes: [] };
  }

  protected async replaceContent(rows: Iterable<EventRow>): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(`DELETE FROM ${this.names.events}`);
      await this.copyRows(client, encodeChunks(rows));
      await this.bumpEpoch(client);
    });
  }

  /**
   * Keeps the newest `maxEvents` by timestamp (later position first among
   * equal timestamps). With several replicas, only the first caller within
   * `compactionLeaseMs` runs it (a lease row claimed by one statement, which
   * works through transaction-pooling proxies); the others return 0.
   */
  protected async compactContent(maxEvents: number): Promise<number> {
    if (!(await this.claimCompactionLease())) return 0;
    const evicted = await this.transaction(async (client) => {
      const result = await client.query(
        `DELETE FROM ${this.names.events} WHERE position IN (SELECT position FROM ${this.names.events} ORDER BY ts DESC, tx DESC, position DESC OFFSET $1)`,
        [maxEvents],
      );
      if ((result.rowCount ?? 0) > 0) await this.bumpEpoch(client);
      return result.rowCount ?? 0;
    });
    this.logger.log(`Compaction ran on this replica (it holds the lease for this tick): evicted ${evicted} event(s)`);
    return evicted;
  }

  /** Counts as the server gives them; a server that does not answer within 3 s fails it (`getStats()` then gives the last known counts). */
  protected readCounts(): Promise<StoredCounts> {
    return withTimeout(this.queryCounts(), STATS_TIMEOUT_MS);
  }

  private async queryCounts(): Promise<StoredCounts> {
    await this.open();
    const { rows }: { rows: { count: string; oldest: number | null; newest: number | null; bytes: string; refused: string }[] } =
      await this.pool.query(
        // The span is that of the events reads give: a row whose timestamp no Date can hold is skipped by them.
        `SELECT count(*) AS count, min(ts) FILTER (WHERE ts BETWEEN -$2::float8 AND $2::float8) AS oldest,
              max(ts) FILTER (WHERE ts BETWEEN -$2::float8 AND $2::float8) AS newest, pg_total_relation_size($1::regclass) AS bytes,
              (SELECT count(*) FROM ${this.names.refused}) AS refused
       FROM ${this.names.events}`,
        [this.names.qualified, MAX_TIMESTAMP_MS],
      );
    return {
      eventCount: Number(rows[0].count),
      storageSizeBytes: Number(rows[0].bytes),
      oldestEvent: rows[0].oldest,
      newestEvent: rows[0].newest,
      refusedEvents: Number(rows[0].refused),
      corruptLines: this.invalidPositions.size,
      countsStale: false,
    };
  }

  protected describeLocation(): string {
    return this.names.qualified;
  }

  protected toQueued(event: RunEvent, line: string): QueuedRow {
    return { event, copyRow: Buffer.from(copyTextRow(event, line)) };
  }

  protected async releaseResources(): Promise<void> {
    for (const tail of this.tails) tail.abort();
    if (this.ownsPool) await this.pool.end().catch(() => undefined);
  }

  /** Drops the ledger's tables (events, leases, dead letters, feed, schema version) and its trigger function. */
  protected async deleteContent(): Promise<void> {
    for (const tail of this.tails) tail.abort();
    try {
      await this.pool.query(
        `DROP TABLE IF EXISTS ${this.names.events}, ${this.names.leases}, ${this.names.versions}, ${this.names.refused}, ${this.names.feed};
         DROP FUNCTION IF EXISTS ${this.names.notifyFunction}()`,
      );
    } finally {
      if (this.ownsPool) await this.pool.end().catch(() => undefined);
    }
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      // Transaction-scoped: replicas starting together migrate one after another, and it works through poolers.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nestjs-ledger:${this.names.qualified}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.names.schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.names.versions} (version integer NOT NULL)`);
      const { rows }: { rows: { version: number | null }[] } = await client.query(`SELECT max(version) AS version FROM ${this.names.versions}`);
      const current = rows[0].version ?? 0;
      if (current > MIGRATIONS.length) {
        throw new LedgerConfigError(
          'storage',
          `the table ${this.names.qualified} has schema version ${current}, newer than this release supports (${MIGRATIONS.length}); upgrade nestjs-ledger`,
        );
      }
      for (let version = current; version < MIGRATIONS.length; version++) {
        for (const statement of MIGRATIONS[version](this.names)) await client.query(statement);
        await client.query(`INSERT INTO ${this.names.versions} (version) VALUES ($1)`, [version + 1]);
        this.logger.log(`Migrated ${this.names.qualified} to ledger schema version ${version + 1}`);
      }
    });
  }

  /**
   * The batch as one `COPY`, its own transaction: one round trip (the table's trigger notifies
   * listening tails when it commits). A batch that meets an `event_id` already stored is written
   * again with `INSERT ... ON CONFLICT DO NOTHING` in one transaction, which skips what is there.
   */
  protected async writeBatch(batch: QueuedRow[]): Promise<void> {
    await this.open();
    try {
      this.inserted += await this.withClient((client) => this.copyRows(client, [Buffer.concat(batch.map((row) => row.copyRow))]));
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      this.inserted += await this.transaction((client) =>
        this.insertRows(
          client,
          batch.map((row) => row.event),
        ),
      );
    }
  }

  /** Streams COPY text (chunks of rows) into the events table; returns the rows copied. */
  private async copyRows(client: PgClientLike, chunks: Iterable<string | Buffer>): Promise<number> {
    const copy = (client as unknown as { query<T>(submittable: T): T }).query(
      copyFrom(`COPY ${this.names.events} (event_id, task_id, ts, event) FROM STDIN`),
    );
    const done = new Promise<void>((resolve, reject) => {
      copy.on('error', reject);
      copy.once('finish', resolve);
    });
    for (const chunk of chunks) {
      if (!copy.write(chunk)) await Promise.race([new Promise((resolve) => copy.once('drain', resolve)), done]);
    }
    copy.end();
    await done;
    return copy.rowCount;
  }

  /**
   * Keeps events the server refused in the dead-letter table (`<table>_rejected`),
   * logs each with its id, and tells the ledger to leave them out of memory.
   * The row holds the event's JSON as text, which any refused value fits in.
   */
  private async setAside(refused: RefusedItem<QueuedRow>[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.names.refused} (event_id, sqlstate, error, event)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [
        refused.map((r) => r.item.event.eventId.replaceAll('\u0000', '\uFFFD')),
        refused.map((r) => (r.error as { code?: string }).code ?? null),
        refused.map((r) => r.error.message),
        refused.map((r) => serializeRunEvent(r.item.event, Infinity)),
      ],
    );
    for (const { item, error } of refused) {
      this.logger.error(
        `Event ${item.event.eventId} (task ${item.event.taskId}) was refused by PostgreSQL (${(error as { code?: string }).code ?? 'no SQLSTATE'}: ${error.message}); ` +
          `it is kept in ${this.names.refusedQualified} and left out of the ledger; the other events of its batch were written`,
      );
    }
    this.notifyRefused(refused.map((r) => r.item.event.eventId));
  }

  /** Inserts rows (idempotent on event_id) and returns how many were new. */
  private async insertRows(client: PgClientLike, events: RunEvent[]): Promise<number> {
    const rows = events.map((event) => ({ event, line: serializeRunEvent(event, Infinity) }));
    let inserted = 0;
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      const chunk = rows.slice(start, start + INSERT_CHUNK);
      const result = await client.query(
        `INSERT INTO ${this.names.events} (event_id, task_id, ts, event)
         SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::json[])
         ON CONFLICT (event_id) DO NOTHING`,
        [chunk.map((r) => r.event.eventId), chunk.map((r) => r.event.taskId), chunk.map((r) => r.event.timestamp), chunk.map((r) => r.line)],
      );
      inserted += result.rowCount ?? 0;
    }
    return inserted;
  }

  /** A rewrite (compaction, writeAll) bumps the epoch: tails start over. */
  private async bumpEpoch(client: PgClientLike): Promise<void> {
    await client.query(`UPDATE ${this.names.feed} SET epoch = epoch + 1`);
    await client.query('SELECT pg_notify($1, $2)', [this.names.channel, 'rewrite']);
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
    const waker = new FeedWaker(this.pool, this.names.channel, this.listen, this.logger);
    try {
      await this.open();
      let cursor = await this.startCursor(options.after);
      let reset = cursor.reset;
      let failures = 0;
      let live = false;
      while (!stop.signal.aborted) {
        let page: FeedPage;
        try {
          await waker.ensureListening();
          page = await this.readFeedPage(cursor, live ? options.known : undefined);
          failures = 0;
        } catch (err) {
          if (failures++ === 0)
            this.logger.warn(`Ledger feed of ${this.names.qualified} could not read (${(err as Error).message}); retrying from its cursor`);
          await waker.wait(Math.min(this.pollIntervalMs, 100 * 2 ** failures), stop.signal);
          continue;
        }
        if (page.epoch !== cursor.epoch) {
          // Rewritten (compaction, writeAll) since the cursor: start over.
          cursor = { epoch: page.epoch, tx: '0', position: '0', reset: true };
          reset = true;
          live = false;
          continue;
        }
        const last = page.rows[page.rows.length - 1];
        if (last) cursor = { epoch: cursor.epoch, tx: last.tx, position: last.position, reset: false };
        const caughtUp = page.rows.length < READ_PAGE;
        // Live pages only: while catching up, a row's age is how long this replica was away, not the feed's delay.
        if (caughtUp && last?.age !== undefined && !reset) ledgerTelemetry.feedDelay(telemetryAttributes(this), last.age);
        const events = this.restoreRows(page);
        if (caughtUp) live = true;
        if (events.length > 0 || caughtUp || reset) {
          yield { events, cursor: `${cursor.epoch}:${cursor.tx}:${cursor.position}`, caughtUp, reset };
          reset = false;
        }
        // Rows waiting for an older transaction become readable within milliseconds: look again soon.
        if (caughtUp) await waker.wait(page.held ? 20 : this.pollIntervalMs, stop.signal);
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.tails.delete(stop);
      await waker.close();
    }
  }

  private async startCursor(after: string | null | undefined): Promise<FeedCursor> {
    const { rows }: { rows: { epoch: string }[] } = await this.pool.query(`SELECT epoch FROM ${this.names.feed}`);
    const epoch = rows[0].epoch;
    if (after === null) return { epoch, tx: '0', position: '0', reset: false };
    if (after === undefined) {
      // From now: after the last row that is already safe to pass.
      const head: { rows: { tx_text: string; position: string }[] } = await this.pool.query(
        `SELECT tx::text AS tx_text, position FROM ${this.names.events} WHERE tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx DESC, position DESC LIMIT 1`,
      );
      return { epoch, tx: head.rows[0]?.tx_text ?? '0', position: head.rows[0]?.position ?? '0', reset: false };
    }
    const [afterEpoch, tx, position] = after.split(':');
    if (afterEpoch !== epoch || tx === undefined || position === undefined) return { epoch, tx: '0', position: '0', reset: true };
    return { epoch, tx, position, reset: false };
  }

  /**
   * One page of the feed after `cursor`, the current epoch, and whether a transaction is running
   * (then rows may wait behind it: the tail looks again within 20 ms). Checking for waiting rows
   * themselves would scan the running transactions' uncommitted index entries on every look.
   * The epoch and the horizon come with every row (computed once per query); an empty page asks
   * for them alone. Catching up (no `known`), the driver decodes each row's JSON as it arrives,
   * overlapping the server's sending; live, the JSON comes as text and only rows the follower
   * does not hold are decoded, and each row's age feeds the delay metric.
   */
  private async readFeedPage(cursor: FeedCursor, known: TailOptions['known']): Promise<FeedPage> {
    const horizon = `WITH horizon AS (
         SELECT pg_snapshot_xmin(s) AS xmin, pg_snapshot_xmin(s) < pg_snapshot_xmax(s) AS running FROM (SELECT pg_current_snapshot() AS s) snapshot)`;
    const state = `(SELECT epoch FROM ${this.names.feed})::text AS epoch, (SELECT running FROM horizon) AS held`;
    const { rows }: { rows: (FeedRow & { epoch: string; held: boolean })[] } = await this.pool.query(
      `${horizon}
       SELECT ${state}, e.tx::text AS tx, e.position, e.event_id,
              ${known ? 'e.event::text AS event, extract(epoch FROM clock_timestamp() - e.stored_at)::float8 AS age' : 'e.event'}
       FROM ${this.names.events} e
       WHERE (e.tx, e.position) > ($1::xid8, $2::bigint) AND e.tx < (SELECT xmin FROM horizon)
       ORDER BY e.tx, e.position
       LIMIT ${READ_PAGE}`,
      [cursor.tx, cursor.position],
    );
    if (rows.length === 0) {
      const {
        rows: [empty],
      }: { rows: { epoch: string; held: boolean }[] } = await this.pool.query(`${horizon} SELECT ${state}`);
      return { epoch: empty.epoch, held: empty.held, rows: [], decoded: true };
    }
    if (known) for (const row of rows) row.own = known(row.event_id);
    return { epoch: rows[0].epoch, held: rows[0].held, rows, decoded: !known };
  }

  /** The feed rows' events: the follower's own copy where it has one, otherwise the row decoded and validated. */
  private restoreRows({ rows, decoded }: FeedPage): RunEvent[] {
    const events: RunEvent[] = [];
    let invalid = 0;
    for (const row of rows) {
      if (row.own) {
        events.push(row.own);
        continue;
      }
      const event = restoreStoredEvent(decoded ? row.event : JSON.parse(row.event as string), this.maxEventBytes, () => row.event_id);
      if (event) events.push(event);
      else if (!this.invalidPositions.has(row.position)) {
        this.invalidPositions.add(row.position);
        invalid++;
      }
    }
    if (invalid > 0)
      this.logger.warn(`${invalid} row(s) of ${this.names.qualified} are not valid run events; they are skipped and counted in corruptLines`);
    return events;
  }

  private async claimCompactionLease(): Promise<boolean> {
    const { rows } = await this.pool.query(
      `INSERT INTO ${this.names.leases} (name, holder, acquired_at) VALUES ('compaction', $1, clock_timestamp())
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at
       WHERE ${this.names.leases}.acquired_at < clock_timestamp() - make_interval(secs => $2::double precision / 1000)
       RETURNING holder`,
      [this.holder, this.leaseMs],
    );
    if (rows.length === 0) this.logger.log('Compaction skipped on this replica: another replica ran it for this tick');
    return rows.length > 0;
  }

  /** Runs `work` in a transaction on one client. */
  private transaction<R>(work: (client: PgClientLike) => Promise<R>): Promise<R> {
    return this.withClient(async (client, markBroken) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(markBroken);
        throw err;
      }
    });
  }

  /** Runs `work` on a client of the pool; a client whose connection broke is discarded, not reused. */
  private async withClient<R>(work: (client: PgClientLike, markBroken: (err: Error) => void) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const markBroken = (err: Error) => (broken = err);
    // A checked-out client whose connection dies emits 'error'; without a listener that would crash the process.
    client.on('error', markBroken);
    try {
      return await work(client, markBroken);
    } finally {
      client.off('error', markBroken);
      client.release(broken);
    }
  }
}

/** COPY text of `rows`, in chunks of {@link COPY_CHUNK} rows, encoded as the stream asks for them. */
function* encodeChunks(rows: Iterable<EventRow>): Iterable<string> {
  let chunk = '';
  let count = 0;
  for (const { event, line } of rows) {
    chunk += copyTextRow(event, line);
    if (++count === COPY_CHUNK) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk) yield chunk;
}

/** Rejects with a timeout error when `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined); // may settle after the timeout
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface FeedCursor {
  epoch: string;
  tx: string;
  position: string;
  /** The requested cursor belonged to an older epoch: the feed starts over. */
  reset: boolean;
}

interface FeedRow {
  tx: string;
  position: string;
  event_id: string;
  /** The event: decoded by the driver (`FeedPage.decoded`), or its JSON text, decoded only when the follower does not hold it. */
  event: unknown;
  /** The follower's own copy of the event, when it holds one. */
  own?: RunEvent | undefined;
  /** Live pages: seconds since the row's transaction started (server clock), when the page was read. */
  age?: number | undefined;
}

interface FeedPage {
  epoch: string;
  held: boolean;
  rows: FeedRow[];
  /** Whether the rows' `event` was decoded by the driver (catching up) or is JSON text (live). */
  decoded: boolean;
}

/**
 * Wakes a tail when a batch commits (`LISTEN` on a connection of its own), or
 * when its poll interval has passed. A lost listening connection is replaced
 * on the next look; meanwhile the tail polls.
 */
class FeedWaker {
  private client: PgClientLike | null = null;
  private detach: (() => void) | null = null;
  private broken: Error | null = null;
  private notified = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly pool: PgPoolLike,
    private readonly channel: string,
    private readonly enabled: boolean,
    private readonly logger: LoggerService,
  ) {}

  async ensureListening(): Promise<void> {
    if (!this.enabled) return;
    if (this.client && !this.broken) return;
    await this.close();
    const client = await this.pool.connect();
    const onError = (err: Error) => {
      this.broken = err;
      this.wake?.();
    };
    const onNotification = () => {
      this.notified = true;
      this.wake?.();
    };
    const events = client as unknown as { on(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown };
    client.on('error', onError);
    events.on('notification', onNotification);
    this.detach = () => {
      client.off('error', onError);
      events.off('notification', onNotification);
    };
    this.client = client;
    this.broken = null;
    try {
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      this.broken = err as Error;
      this.logger.warn(`Ledger feed cannot LISTEN (${(err as Error).message}); it polls instead`);
      throw err;
    }
  }

  /** Waits for a notification (one that came meanwhile counts), `ms`, or the signal. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
    this.notified = false;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (!this.broken) await client.query(`UNLISTEN ${this.channel}`).catch(() => undefined);
    this.detach?.();
    this.detach = null;
    client.release(this.broken ?? undefined);
  }
}
