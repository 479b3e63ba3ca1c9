'use strict';
/**
 * npm run bench [-- --quick]
 * Runs every case several times, each in a fresh process, and prints a
 * markdown table: median, min-max, and the ratio to a reference measured in
 * the same run. Data goes under BENCH_DIR (default .bench-data/, on the
 * project's disk so that fdatasync means what it says).
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const quick = process.argv.includes('--quick');
const withPostgres = !process.argv.includes('--no-postgres');
const root = path.resolve(process.env.BENCH_DIR || path.join(__dirname, '..', '.bench-data'));
const sizes = quick
  ? { runs: 3, write: 50_000, concurrent: 4_000, load: 100_000, keep: 10_000, big: 0, pgWrite: 20_000, pgLoad: 20_000, feedSeconds: 2 }
  : {
      runs: 5,
      write: 200_000,
      concurrent: 20_000,
      load: 1_000_000,
      keep: 100_000,
      big: 5_000_000,
      pgWrite: 100_000,
      pgLoad: 100_000,
      feedSeconds: 5,
    };

function runCase(name, params) {
  const out = execFileSync(process.execPath, ['--max-old-space-size=8192', path.join(__dirname, 'cases.js'), name, JSON.stringify(params)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

function repeat(runs, name, params, pick) {
  const values = [];
  for (let i = 0; i < runs; i++) {
    fs.rmSync(params.dir, { recursive: true, force: true });
    values.push(pick(runCase(name, params)));
    fs.rmSync(params.dir, { recursive: true, force: true });
  }
  return values;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const rows = [];
function row(label, unit, values, referenceLabel, referenceValues, higherIsBetter, target) {
  const m = median(values);
  const ref = referenceValues ? median(referenceValues) : null;
  const ratio = ref ? m / ref : null;
  rows.push({
    label,
    value: `${fmt(m)} ${unit}`,
    range: `${fmt(Math.min(...values))} – ${fmt(Math.max(...values))}`,
    reference: referenceLabel ? `${referenceLabel}: ${fmt(ref)} ${unit}` : '',
    ratio: ratio === null ? '' : `${ratio.toFixed(2)}x`,
    target: target || '',
  });
  process.stderr.write(`  ${label}: ${fmt(m)} ${unit}${ratio === null ? '' : ` (${ratio.toFixed(2)}x ${referenceLabel})`}\n`);
  return m;
}

async function main() {
  fs.mkdirSync(root, { recursive: true });
  const at = (name) => path.join(root, name);
  const { runs } = sizes;
  process.stderr.write(`nestjs-ledger benchmark (${quick ? 'quick' : 'full'}), ${runs} runs per case, data in ${root}\n`);

  // Durable throughput.
  const minimal = repeat(runs, 'minimalWriter', { dir: at('ref'), events: sizes.write }, (r) => r.eventsPerSecond);
  row('reference: minimal writer (JSON.stringify, one writeSync of 1000 lines, fdatasync)', 'events/s', minimal);
  const raw = repeat(runs, 'writeReference', { dir: at('ref'), events: sizes.write, sync: false }, (r) => r.eventsPerSecond);
  const rawSync = repeat(runs, 'writeReference', { dir: at('ref'), events: sizes.write, sync: true }, (r) => r.eventsPerSecond);
  row('reference: JSON.stringify + write stream, batches of 1000', 'events/s', raw);
  row('reference: same, fdatasync per batch', 'events/s', rawSync, 'raw stream', raw);
  const durableRuns = repeat(runs, 'ledgerDurable', { dir: at('ledger'), events: sizes.write }, (r) => r);
  const durable = durableRuns.map((r) => r.eventsPerSecond);
  row('logEvent loop, flush() every 1000 (fdatasync)', 'events/s', durable, 'minimal writer', minimal, true, '>= 0.8x minimal writer');
  row('  the same, against the fdatasync stream', 'events/s', durable, 'fdatasync stream', rawSync, true);
  row(
    '  its CPU per event',
    'µs',
    durableRuns.map((r) => r.cpuMicrosPerEvent),
  );
  const storeAlone = repeat(runs, 'fileStoreLoop', { dir: at('ledger'), events: sizes.write }, (r) => r.eventsPerSecond);
  row(
    'FileEventStore alone (the same events enqueued; nothing validated or kept in memory)',
    'events/s',
    storeAlone,
    'minimal writer',
    minimal,
    true,
  );
  for (const callers of [1, 10, 100]) {
    const values = repeat(runs, 'ledgerConcurrent', { dir: at('ledger'), events: sizes.concurrent, callers }, (r) => r.eventsPerSecond);
    row(`${callers} concurrent caller(s), each awaiting its own flush()`, 'events/s', values, 'fdatasync stream', rawSync);
  }

  // Load, range reads, compaction: on one generated store.
  const storeDir = at(`store-${sizes.load}`);
  const made = runCase('makeStore', { dir: storeDir, events: sizes.load });
  process.stderr.write(`  store of ${sizes.load.toLocaleString('en-US')} events, ${fmt(made.bytes / 1024 / 1024)} MiB\n`);
  const parse = [];
  const load = [];
  const loadRss = [];
  for (let i = 0; i < runs; i++) {
    parse.push(runCase('parseReference', { dir: storeDir }).seconds);
    const r = runCase('ledgerLoad', { dir: storeDir });
    load.push(r.seconds);
    loadRss.push(r.peakRssMiB);
  }
  row(`reference: JSON.parse of ${sizes.load.toLocaleString('en-US')} lines already in memory`, 's', parse);
  row(`PersistentLedger.init() of ${sizes.load.toLocaleString('en-US')} events`, 's', load, 'JSON.parse', parse, false, '<= 1.3x JSON.parse');
  row('  peak RSS of that init()', 'MiB', loadRss);
  const range = [];
  const full = [];
  for (let i = 0; i < runs; i++) {
    const r = runCase('storeRange', { dir: storeDir, fraction: 0.01 });
    range.push(r.seconds);
    full.push(r.fullScanSeconds);
  }
  row('readRange over 1% of the time span (index skips blocks)', 's', range, 'full stream', full, false);
  const views = [];
  for (let i = 0; i < runs; i++) views.push(runCase('dashboardFirstView', { dir: storeDir }));
  row(
    `dashboard first view over HTTP (page, summary, runs) of ${sizes.load.toLocaleString('en-US')} events`,
    's',
    views.map((v) => v.httpSeconds),
    null,
    null,
    false,
    '< 1 s',
  );
  if (views[0].browserSeconds !== null)
    row(
      '  the same in headless Chromium, until every chart and row is drawn',
      's',
      views.map((v) => v.browserSeconds),
      null,
      null,
      false,
      '< 1 s',
    );

  const compact = [];
  const compactRss = [];
  for (let i = 0; i < runs; i++) {
    const r = runCase('storeCompact', { dir: storeDir, keep: sizes.keep });
    compact.push(r.seconds);
    compactRss.push(r.peakRssAboveBaselineMiB);
  }
  row(
    `compact ${sizes.load.toLocaleString('en-US')} -> ${sizes.keep.toLocaleString('en-US')} events`,
    's',
    compact,
    'original design (5.9 s, not re-measured)',
    [5.9],
    false,
    '< 5.9 s',
  );
  row('  peak RSS above the opened store', 'MiB', compactRss, null, null, false, '< 256 MiB');
  fs.rmSync(storeDir, { recursive: true, force: true });

  if (sizes.big) {
    const bigDir = at('store-big');
    const bigMade = runCase('makeStore', { dir: bigDir, events: sizes.big });
    const label = `${(sizes.big / 1e6).toFixed(0)} M events, ${fmt(bigMade.bytes / 1024 / 1024 / 1024)} GiB`;
    const r = runCase('storeRange', { dir: bigDir, fraction: 0.01 });
    row(`${label}: readRange 1% (once)`, 's', [r.seconds], 'full stream', [r.fullScanSeconds], false);
    const c = runCase('storeCompact', { dir: bigDir, keep: sizes.keep });
    row(`${label}: compact -> ${sizes.keep.toLocaleString('en-US')} (once)`, 's', [c.seconds]);
    row(`${label}: compaction peak RSS above baseline`, 'MiB', [c.peakRssAboveBaselineMiB]);
    fs.rmSync(bigDir, { recursive: true, force: true });
  }

  if (withPostgres) await require('./postgres-cases').run({ sizes, runs, row, at, ndjsonDurable: durable });

  const cpu = os.cpus()[0];
  console.log(
    `\nEnvironment: ${cpu ? cpu.model : 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  console.log(`Command: npm run bench${quick ? ' -- --quick' : ''}; ${runs} runs per case (each in a fresh process), median and min–max.\n`);
  console.log('| case | median | min – max | reference (same run) | ratio | target |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.label} | ${r.value} | ${r.range} | ${r.reference} | ${r.ratio} | ${r.target} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
