'use strict';
/**
 * node bench/validate-serialize.js [--runs N] [--events N] [--durable N] [label=distDir ...]
 *
 * Compares builds of the library on the two costs the run-event validator and
 * serializer decide: `logEvent` + serialisation of each event (the CPU path, no
 * disk), and the NDJSON durable loop of `npm run bench` (logEvent, flush() every
 * 1000). Each run is a fresh process; the builds' runs are interleaved round by
 * round so that load on a shared machine falls on all of them alike. Prints the
 * median and min–max of each, and each build's ratio to the first.
 * With no build given, measures `dist/` alone.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const CASE = '--case';

/** One measurement in this process: `which` is `cpu` or `durable`. */
async function runCase(which, dist, events, dir) {
  const { benchEvent } = require('./event-fixture');
  const lib = require(dist);
  const { serializeRunEvent } = require(path.join(dist, 'events/run-event.serializer'));
  const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
  if (which === 'cpu') {
    // A ledger without a store: logEvent validates, copies and keeps each event; the line is what a store would write.
    const ledger = new lib.RunLedger();
    const start = process.hrtime.bigint();
    let bytes = 0;
    for (let i = 0; i < events; i++) bytes += serializeRunEvent(ledger.logEvent(benchEvent(i)), 1 << 22).length;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { nsPerEvent: (seconds * 1e9) / events, bytes };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const ledger = lib.createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, maxEvents: 1e9, highWaterMark: 0, logger: quiet });
  await ledger.init();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    ledger.logEvent(benchEvent(i));
    if (i % 1000 === 999) await ledger.flush();
  }
  await ledger.flush();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  await ledger.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  return { eventsPerSecond: events / seconds, cpuMicrosPerEvent: (used.user + used.system) / events };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function option(args, name, fallback) {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

function main() {
  const args = process.argv.slice(2);
  const runs = option(args, '--runs', 7);
  const events = option(args, '--events', 1_000_000);
  const durableEvents = option(args, '--durable', 200_000);
  const builds = args
    .filter((a, i) => a.includes('=') && !args[i - 1]?.startsWith('--'))
    .map((a) => {
      const [label, dir] = a.split('=');
      return { label, dist: path.resolve(dir) };
    });
  if (builds.length === 0) builds.push({ label: 'dist', dist: path.resolve(__dirname, '..', 'dist') });
  const dataDir = path.resolve(process.env.BENCH_DIR || path.join(__dirname, '..', '.bench-data'), 'validate-serialize');
  const results = builds.map(() => ({ cpu: [], durable: [], durableCpu: [] }));
  const one = (which, build, n) =>
    JSON.parse(
      execFileSync(process.execPath, [__filename, CASE, which, build.dist, String(n), dataDir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
  for (let round = 0; round < runs; round++) {
    builds.forEach((build, b) => {
      results[b].cpu.push(one('cpu', build, events).nsPerEvent);
      if (durableEvents > 0) {
        const r = one('durable', build, durableEvents);
        results[b].durable.push(r.eventsPerSecond);
        results[b].durableCpu.push(r.cpuMicrosPerEvent);
      }
    });
    process.stderr.write(`round ${round + 1}/${runs} done\n`);
  }
  console.log(
    `Command: node bench/validate-serialize.js --runs ${runs} --events ${events} --durable ${durableEvents} ${builds.map((b) => b.label).join(' ')}`,
  );
  console.log(`${runs} runs per build (fresh processes, builds interleaved), Node ${process.version}\n`);
  console.log(
    '| build | logEvent + serialise (ns/event) | min – max | ratio | durable loop (events/s) | min – max | ratio | its CPU (µs/event) | min – max | ratio |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const base = results[0];
  builds.forEach((build, b) => {
    const r = results[b];
    const cpu = median(r.cpu);
    const cells = [
      build.label,
      cpu.toFixed(0),
      `${Math.min(...r.cpu).toFixed(0)} – ${Math.max(...r.cpu).toFixed(0)}`,
      (cpu / median(base.cpu)).toFixed(3),
    ];
    if (durableEvents > 0) {
      const d = median(r.durable);
      cells.push(
        Math.round(d),
        `${Math.round(Math.min(...r.durable))} – ${Math.round(Math.max(...r.durable))}`,
        (d / median(base.durable)).toFixed(3),
      );
      const c = median(r.durableCpu);
      cells.push(
        c.toFixed(2),
        `${Math.min(...r.durableCpu).toFixed(2)} – ${Math.max(...r.durableCpu).toFixed(2)}`,
        (c / median(base.durableCpu)).toFixed(3),
      );
    } else cells.push('', '', '', '', '', '');
    console.log(`| ${cells.join(' | ')} |`);
  });
}

if (process.argv[2] === CASE) {
  const [, , which, dist, events, dir] = process.argv.slice(1);
  runCase(which, dist, Number(events), dir)
    .then((result) => process.stdout.write(JSON.stringify(result)))
    .catch((err) => {
      process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
      process.exit(1);
    });
} else {
  main();
}
