'use strict';
/**
 * One benchmark case per process (so peak RSS and JIT state are its own).
 * Usage: node bench/cases.js <case> <json params>; prints one JSON result line.
 */
const fs = require('node:fs');
const { join } = require('node:path');
// The ledger's own id generator (UUIDv7): references write the same rows as the ledger.
const { newEventId } = require('../dist/events/event-id');
const { createPersistentLedger, FileEventStore } = require('../dist');
const { benchEvent } = require('./event-fixture');

const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;
const rssMiB = () => process.memoryUsage().rss / 1024 / 1024;

function fdatasync(fd) {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Plain Node: JSON.stringify each event, write batches of 1000 lines through one write stream (optionally fdatasync each batch). */
async function writeReference({ dir, events, sync }) {
  fs.mkdirSync(dir, { recursive: true });
  const stream = fs.createWriteStream(join(dir, 'reference.ndjson'));
  await new Promise((resolve) => stream.once('open', resolve));
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i += 1000) {
    const lines = [];
    for (let j = i; j < i + 1000 && j < events; j++) lines.push(JSON.stringify({ eventId: newEventId(), ...benchEvent(j) }));
    const flushed = new Promise((resolve) => stream.write(lines.join('\n') + '\n', resolve));
    await flushed;
    if (sync) await fdatasync(stream.fd);
  }
  const elapsed = seconds(start);
  await new Promise((resolve) => stream.end(resolve));
  return { eventsPerSecond: events / elapsed };
}

/** The minimal durable writer: JSON.stringify each event, one writeSync of 1000 lines, fdatasync. */
async function minimalWriter({ dir, events }) {
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(join(dir, 'minimal.ndjson'), 'a');
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i += 1000) {
    let text = '';
    for (let j = i; j < i + 1000 && j < events; j++) text += JSON.stringify({ eventId: newEventId(), ...benchEvent(j) }) + '\n';
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  }
  const elapsed = seconds(start);
  fs.closeSync(fd);
  return { eventsPerSecond: events / elapsed };
}

/**
 * A store alone: the same events enqueued 1000 at a time, each batch flushed; nothing validated,
 * nothing kept in memory. Deletes the store's data afterwards.
 */
async function storeLoop(store, events) {
  await store.open();
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i += 1000) {
    const batch = [];
    for (let j = i; j < i + 1000 && j < events; j++) batch.push({ eventId: newEventId(), ...benchEvent(j) });
    store.enqueue(batch);
    await store.flush();
  }
  const result = { eventsPerSecond: events / seconds(start) };
  await store.deleteAll();
  return result;
}

/** The NDJSON store alone (see storeLoop). */
function fileStoreLoop({ dir, events }) {
  return storeLoop(new FileEventStore({ storagePath: dir, logger: quiet }), events);
}

/** A ledger that neither compacts nor evicts during a case. */
function benchLedger(config) {
  return createPersistentLedger({ compactIntervalMs: 0, maxEvents: 1e9, highWaterMark: 0, logger: quiet, ...config });
}

/** logEvent in a loop, flush() every 1000 events; returns events/s. */
async function durableLoop(ledger, events) {
  await ledger.init();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    ledger.logEvent(benchEvent(i));
    if (i % 1000 === 999) await ledger.flush();
  }
  await ledger.flush();
  return { eventsPerSecond: events / seconds(start), cpuMicrosPerEvent: cpuMicrosPerEvent(cpu, events) };
}

/** This process's CPU time (user + system) since `since`, per event, in µs. */
function cpuMicrosPerEvent(since, events) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / events;
}

/** Times init() (open, load every event into memory); reports peak RSS. */
async function timedInit(ledger) {
  const start = process.hrtime.bigint();
  await ledger.init();
  const result = { seconds: seconds(start), events: ledger.eventCount, peakRssMiB: peakRssMiB() };
  await ledger.destroy();
  return result;
}

/** NDJSON: logEvent in a loop, flush() every 1000 events (each flush fdatasyncs). */
async function ledgerDurable({ dir, events }) {
  const ledger = benchLedger({ storagePath: dir });
  const result = await durableLoop(ledger, events);
  await ledger.destroy();
  return result;
}

/** `callers` concurrent loops, each logging one event and awaiting its own flush (NDJSON, or PostgreSQL with `connectionString`). */
async function ledgerConcurrent({ dir, connectionString, schema, events, callers }) {
  const ledger = benchLedger(connectionString ? { store: pgStore(connectionString, schema) } : { storagePath: dir });
  await ledger.init();
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < events) {
        ledger.logEvent(benchEvent(next++));
        await ledger.flush();
      }
    }),
  );
  const elapsed = seconds(start);
  await ledger.destroy();
  if (connectionString) await pgStore(connectionString, schema).deleteAll();
  return { eventsPerSecond: events / elapsed };
}

/** Writes a store of `events` lines directly, then lets the store index it once (a cleanly closed store). */
async function makeStore({ dir, events }) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(join(dir, 'events.ndjson'), 'w');
  for (let i = 0; i < events; i += 10_000) {
    const lines = [];
    for (let j = i; j < i + 10_000 && j < events; j++) lines.push(JSON.stringify({ eventId: newEventId(), ...benchEvent(j) }));
    fs.writeSync(fd, lines.join('\n') + '\n');
  }
  fs.closeSync(fd);
  const store = new FileEventStore({ storagePath: dir, logger: quiet });
  await store.open();
  await store.close();
  return { bytes: fs.statSync(join(dir, 'events.ndjson')).size };
}

/** Reference for load: JSON.parse of every line, the lines already in memory. */
async function parseReference({ dir }) {
  const lines = [];
  const fd = fs.openSync(join(dir, 'events.ndjson'), 'r');
  const buffer = Buffer.alloc(8 * 1024 * 1024);
  let rest = '';
  for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) {
    const parts = (rest + buffer.toString('utf8', 0, n)).split('\n');
    rest = parts.pop();
    for (const part of parts) lines.push(part);
  }
  fs.closeSync(fd);
  const start = process.hrtime.bigint();
  const parsed = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) parsed[i] = JSON.parse(lines[i]);
  return { seconds: seconds(start), events: parsed.length };
}

/** PersistentLedger.init() of an existing store: open, verify the index, load every event into memory. */
async function ledgerLoad({ dir }) {
  return timedInit(benchLedger({ storagePath: dir }));
}

/** EventStore.compact(keep) of a copy of the store; memory is measured above the opened store's baseline. */
async function storeCompact({ dir, keep }) {
  const work = `${dir}-compact`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.cpSync(dir, work, { recursive: true });
  const store = new FileEventStore({ storagePath: work, logger: quiet });
  await store.open();
  const baseline = rssMiB();
  const start = process.hrtime.bigint();
  const evicted = await store.compact(keep);
  const elapsed = seconds(start);
  const result = { seconds: elapsed, evicted, peakRssAboveBaselineMiB: peakRssMiB() - baseline, peakRssMiB: peakRssMiB() };
  await store.close();
  fs.rmSync(work, { recursive: true, force: true });
  return result;
}

/** readRange over `fraction` of the time span in the middle, versus a full scan. */
async function storeRange({ dir, fraction }) {
  const store = new FileEventStore({ storagePath: dir, logger: quiet });
  await store.open();
  const { oldestEvent, newestEvent } = await store.getStats();
  const span = newestEvent - oldestEvent;
  const from = oldestEvent + span * (0.5 - fraction / 2);
  const to = oldestEvent + span * (0.5 + fraction / 2);
  let start = process.hrtime.bigint();
  const range = await store.readRange(from, to);
  const rangeSeconds = seconds(start);
  start = process.hrtime.bigint();
  let all = 0;
  for await (const batch of store.readBatches()) all += batch.length;
  const fullSeconds = seconds(start);
  await store.close();
  return { seconds: rangeSeconds, events: range.length, fullScanSeconds: fullSeconds, fullScanEvents: all, peakRssMiB: peakRssMiB() };
}

function pgStore(connectionString, schema) {
  const { PostgresEventStore } = require('../dist');
  return new PostgresEventStore({ connectionString, schema, logger: quiet });
}

/** PostgreSQL: logEvent in a loop, flush() (one committed transaction) every 1000 events. */
async function pgDurable({ connectionString, schema, events }) {
  const ledger = benchLedger({ store: pgStore(connectionString, schema) });
  const result = await durableLoop(ledger, events);
  await ledger.close();
  await pgStore(connectionString, schema).deleteAll();
  return result;
}

/**
 * PostgreSQL replica feed: a writer logs `rate` events/s (a batch every 10 ms,
 * each flushed) for `seconds`; a second ledger on the same table follows the
 * feed. Delay = when the follower's events$ emits the event minus when the
 * writer's flush() of it resolved (the commit). Same process, so the two share
 * one event loop: a pessimistic figure.
 */
async function pgFeedDelay({ connectionString, schema, rate, seconds: duration }) {
  const writer = benchLedger({ store: pgStore(connectionString, schema) });
  const follower = benchLedger({ store: pgStore(connectionString, schema) });
  await writer.init();
  await follower.init();
  const committedAt = new Map();
  const receivedAt = new Map();
  follower.events$.subscribe((e) => receivedAt.set(e.eventId, performance.now()));
  const perTick = Math.round(rate / 100);
  let logged = 0;
  const flushes = [];
  const started = performance.now();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const ids = [];
      for (let i = 0; i < perTick; i++) ids.push(writer.logEvent(benchEvent(logged++)).eventId);
      flushes.push(
        writer.flush().then(() => {
          const now = performance.now();
          for (const id of ids) committedAt.set(id, now);
        }),
      );
      if (performance.now() - started >= duration * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  await Promise.all(flushes);
  const elapsed = (performance.now() - started) / 1000;
  const deadline = Date.now() + 30_000;
  while (receivedAt.size < logged && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const delays = [...committedAt].map(([id, at]) => Math.max(0, (receivedAt.get(id) ?? Infinity) - at)).sort((a, b) => a - b);
  const pick = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  await follower.close();
  await writer.close();
  const cleanup = pgStore(connectionString, schema);
  await cleanup.deleteAll();
  return {
    events: logged,
    eventsPerSecond: logged / elapsed,
    missing: logged - receivedAt.size,
    p50: pick(0.5),
    p99: pick(0.99),
    max: delays[delays.length - 1],
  };
}

/**
 * Reference for PostgreSQL appends: a plain client COPYing the same events (JSON.stringify, text
 * format, 1000 rows per COPY, each its own transaction) into the ledger's own table. `variant`
 * removes or changes one index first, to measure what each costs.
 */
async function pgCopyReference({ connectionString, schema, events, variant = 'as built' }) {
  const { Pool } = require('pg');
  const { from: copyFrom } = require('pg-copy-streams');
  const store = pgStore(connectionString, schema);
  await store.open();
  await store.close();
  const table = `"${schema}".ledger_events`;
  const pool = new Pool({ connectionString, max: 1 });
  const client = await pool.connect();
  for (const statement of INDEX_VARIANTS[variant]) await client.query(statement.replaceAll('$table', table).replaceAll('$schema', `"${schema}"`));
  const escape = (value) => value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i += 1000) {
    let text = '';
    for (let j = i; j < i + 1000 && j < events; j++) {
      const event = { eventId: newEventId(), ...benchEvent(j) };
      text += `${escape(event.eventId)}\t${escape(event.taskId)}\t${event.timestamp}\t${escape(JSON.stringify(event))}\n`;
    }
    const copy = client.query(copyFrom(`COPY ${table} (event_id, task_id, ts, event) FROM STDIN`));
    await new Promise((resolve, reject) => {
      copy.on('error', reject);
      copy.on('finish', resolve);
      copy.end(text);
    });
  }
  const result = { eventsPerSecond: events / seconds(start), cpuMicrosPerEvent: cpuMicrosPerEvent(cpu, events) };
  client.release();
  await pool.end();
  await pgStore(connectionString, schema).deleteAll();
  return result;
}

/** The table changes of pgCopyReference's variants. */
const INDEX_VARIANTS = {
  'as built': [],
  'without the ts index': ['DROP INDEX $schema.ledger_events_ts_idx'],
  'without the task index': ['DROP INDEX $schema.ledger_events_task_idx'],
  'without the feed index': ['DROP INDEX $schema.ledger_events_feed_idx'],
  'without the unique event_id': ['ALTER TABLE $table DROP CONSTRAINT ledger_events_event_id_key'],
  'without the tx column (no feed)': ['DROP INDEX $schema.ledger_events_feed_idx', 'ALTER TABLE $table DROP COLUMN tx'],
  'event_id and task_id COLLATE "C"': ['ALTER TABLE $table ALTER COLUMN event_id TYPE text COLLATE "C", ALTER COLUMN task_id TYPE text COLLATE "C"'],
  'ts index as BRIN': ['DROP INDEX $schema.ledger_events_ts_idx', 'CREATE INDEX ledger_events_ts_idx ON $table USING brin (ts)'],
  'primary key only': [
    'DROP INDEX $schema.ledger_events_ts_idx',
    'DROP INDEX $schema.ledger_events_task_idx',
    'DROP INDEX $schema.ledger_events_feed_idx',
    'ALTER TABLE $table DROP CONSTRAINT ledger_events_event_id_key',
  ],
};

/** Reference for the feed's cost: the same events through a bare PostgresEventStore (see storeLoop; nobody follows the feed). */
function pgStoreLoop({ connectionString, schema, events }) {
  return storeLoop(pgStore(connectionString, schema), events);
}

/** The logEvent loop of pgDurable while `followers` other processes follow the same table's feed. */
async function pgDurableFollowed({ connectionString, schema, events, followers }) {
  const { spawn } = require('node:child_process');
  const store = pgStore(connectionString, schema);
  await store.open();
  const children = [];
  for (let i = 0; i < followers; i++) {
    const child = spawn(process.execPath, [join(__dirname, 'feed-follower.js'), connectionString, schema], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    children.push(child);
  }
  const ledger = benchLedger({ store });
  const result = await durableLoop(ledger, events);
  for (const child of children) child.stdin.end();
  await Promise.all(children.map((child) => new Promise((resolve) => child.on('exit', resolve))));
  await ledger.close();
  await pgStore(connectionString, schema).deleteAll();
  return result;
}

/** PostgreSQL: a table of `events` events, written in batches. */
async function pgMake({ connectionString, schema, events }) {
  const store = pgStore(connectionString, schema);
  await store.open();
  for (let i = 0; i < events; i += 10_000) {
    const batch = [];
    for (let j = i; j < i + 10_000 && j < events; j++) batch.push({ eventId: newEventId(), ...benchEvent(j) });
    store.enqueue(batch);
    await store.flush();
  }
  await store.close();
  return { events };
}

/** Reference for PostgreSQL load: a plain client reading the same rows (keyset pages of 5000, pg's JSON decoding), keeping them. */
async function pgSelectReference({ connectionString, schema }) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString, max: 1 });
  const start = process.hrtime.bigint();
  const events = [];
  let after = 0;
  for (;;) {
    const { rows } = await pool.query(`SELECT position, event FROM "${schema}".ledger_events WHERE position > $1 ORDER BY position LIMIT 5000`, [
      after,
    ]);
    for (const row of rows) events.push(row.event);
    if (rows.length < 5000) break;
    after = rows[rows.length - 1].position;
  }
  const result = { seconds: seconds(start), events: events.length };
  await pool.end();
  return result;
}

/** PostgreSQL: PersistentLedger.init() of the table made by pgMake. */
async function pgLoad({ connectionString, schema }) {
  return timedInit(benchLedger({ store: pgStore(connectionString, schema) }));
}

/**
 * The dashboard's first view on a store of `events` events: a Nest app with LedgerModule and
 * LedgerDashboardModule on the store, then what the page loads (the page, then summary and the
 * first runs page together), timed over HTTP; and, when Chromium is installed, a real browser's
 * navigation until the page has drawn everything (body[data-ready]).
 */
async function dashboardFirstView({ dir }) {
  require('reflect-metadata');
  const { Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { LedgerModule, LedgerDashboardModule } = require('../dist');
  class BenchApp {}
  Module({
    imports: [
      LedgerModule.forRoot({ storagePath: dir, compaction: false, maxEvents: 1e9, highWaterMark: 0 }),
      LedgerDashboardModule.forRoot({ path: '/ledger' }),
    ],
  })(BenchApp);
  let start = process.hrtime.bigint();
  const app = await NestFactory.create(BenchApp, { logger: false });
  await app.listen(0, '127.0.0.1');
  const startupSeconds = seconds(start);
  const base = `http://127.0.0.1:${app.getHttpServer().address().port}/ledger`;
  start = process.hrtime.bigint();
  await (await fetch(base)).text();
  await Promise.all([fetch(`${base}/api/summary`).then((r) => r.json()), fetch(`${base}/api/runs`).then((r) => r.json())]);
  const httpSeconds = seconds(start);
  let browserSeconds = null;
  const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  if (chromiumPath) {
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    start = process.hrtime.bigint();
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]');
    browserSeconds = seconds(start);
    await browser.close();
  }
  await app.close();
  return { startupSeconds, httpSeconds, browserSeconds };
}

const cases = {
  dashboardFirstView,
  fileStoreLoop,
  minimalWriter,
  pgCopyReference,
  pgSelectReference,
  pgFeedDelay,
  pgStoreLoop,
  pgDurableFollowed,
  writeReference,
  ledgerDurable,
  ledgerConcurrent,
  makeStore,
  parseReference,
  ledgerLoad,
  storeCompact,
  storeRange,
  pgDurable,
  pgMake,
  pgLoad,
};

(async () => {
  const [name, params] = process.argv.slice(2);
  const result = await cases[name](JSON.parse(params));
  process.stdout.write(JSON.stringify(result) + '\n');
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
