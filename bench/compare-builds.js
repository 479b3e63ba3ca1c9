'use strict';
/**
 * node bench/compare-builds.js <other checkout> [runs]
 * The durable loops of `npm run bench` (NDJSON: logEvent, flush() every 1000, fdatasync;
 * PostgreSQL: the same, one COPY each) run from this checkout and from another one (built, e.g. a
 * `git worktree` of an older commit), interleaved run by run in fresh processes, on one embedded
 * PostgreSQL server. Prints a table: each build's median, min-max, and this build's ratio to the other.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('./postgres-cases');

const other = path.resolve(process.argv[2] || '');
const runs = Number(process.argv[3] || 5);
if (!process.argv[2] || !fs.existsSync(path.join(other, 'bench', 'cases.js')) || !fs.existsSync(path.join(other, 'dist'))) {
  process.stderr.write('usage: node bench/compare-builds.js <other built checkout> [runs]\n');
  process.exit(2);
}
const here = path.resolve(__dirname, '..');
const root = path.resolve(process.env.BENCH_DIR || path.join(here, '.bench-data'), 'compare');
const events = { ndjson: 200_000, postgres: 100_000 };

function runCase(checkout, name, params) {
  const out = execFileSync(process.execPath, [path.join(checkout, 'bench', 'cases.js'), name, JSON.stringify(params)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()).eventsPerSecond;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function main() {
  fs.mkdirSync(root, { recursive: true });
  const server = process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, stop() {} } : await startServer(path.join(root, 'postgres'));
  const results = { ndjson: { here: [], other: [] }, postgres: { here: [], other: [] } };
  try {
    for (let i = 0; i < runs; i++) {
      for (const [label, checkout] of i % 2
        ? [
            ['other', other],
            ['here', here],
          ]
        : [
            ['here', here],
            ['other', other],
          ]) {
        const dir = path.join(root, 'ledger');
        fs.rmSync(dir, { recursive: true, force: true });
        results.ndjson[label].push(runCase(checkout, 'ledgerDurable', { dir, events: events.ndjson }));
        fs.rmSync(dir, { recursive: true, force: true });
        results.postgres[label].push(
          runCase(checkout, 'pgDurable', { connectionString: server.url, schema: `compare_${label}_${i}`, events: events.postgres }),
        );
      }
      process.stderr.write(`  run ${i + 1}/${runs} done\n`);
    }
  } finally {
    server.stop();
  }
  const cpu = os.cpus();
  console.log(
    `Durable loops, this checkout (${here}) against ${other}: ${os.type()} ${os.release()}, ${cpu.length} x ${cpu[0].model}, Node ${process.version}, ${runs} runs each, interleaved, fresh processes\n`,
  );
  console.log('| loop | this build (median, min–max) | other build (median, min–max) | ratio |');
  console.log('|---|---|---|---|');
  for (const [store, label] of [
    ['ndjson', `NDJSON: logEvent loop, flush() every 1000 (${events.ndjson} events)`],
    ['postgres', `PostgreSQL: logEvent loop, flush() every 1000 (${events.postgres} events)`],
  ]) {
    const { here: mine, other: theirs } = results[store];
    const span = (v) => `${fmt(median(v))} events/s (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})`;
    console.log(`| ${label} | ${span(mine)} | ${span(theirs)} | ${(median(mine) / median(theirs)).toFixed(2)}x |`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
