/**
 * Promise 1: a crash at any instant loses no acknowledged event.
 * A child process logs events continuously and reports each batch whose flush()
 * resolved; the parent kill -9s it at a random moment and checks the store.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileEventStore, RunEvent } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { FIXTURES, LineChild, sleep } from '../helpers/child-process';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const TRIALS_PER_SIZE = 50;
const REWRITE_TRIALS = 20;

interface CrashReport {
  trials: number;
  acknowledged: number;
  acknowledgedRecovered: number;
  unacknowledgedPresent: number;
  tornTailsRepaired: number;
  /** Opens that found index.json behind the log and rebuilt or caught it up. */
  indexRepaired: number;
}

function rawLines(dir: string): string[] {
  const path = join(dir, 'events.ndjson');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

async function crashTrial(size: 'small' | 'large', report: CrashReport): Promise<void> {
  const dir = makeTempDir('ledger-crash-');
  const child = new LineChild(join(FIXTURES, 'crash-writer.js'), [dir, size]);
  await child.waitFor((l) => l.startsWith('READY'));
  await sleep(20 + Math.random() * (size === 'large' ? 500 : 300));
  await child.kill9();
  const acked = child.lines.filter((l) => l.startsWith('ACK ')).flatMap((l) => l.slice(4).split(','));

  const path = join(dir, 'events.ndjson');
  const sizeBefore = existsSync(path) ? statSync(path).size : 0;
  const torn = sizeBefore > 0 && readFileSync(path).at(-1) !== 10;

  const logger = new CapturingLogger();
  const store = new FileEventStore({ storagePath: dir, logger });
  await store.open();
  const events = await store.readAll();
  const stats = await store.getStats();

  // Every line on disk is a complete event: nothing half-written survives the repair.
  const lines = rawLines(dir);
  const parsed = lines.map((l) => JSON.parse(l) as RunEvent);
  expect(parsed.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
  expect(stats.corruptLines).toBe(0);
  if (lines.length > 0) expect(readFileSync(path).at(-1)).toBe(10);

  // Every acknowledged event is there exactly once; no event is duplicated.
  const ids = events.map((e) => e.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  const present = new Set(ids);
  const missing = acked.filter((id) => !present.has(id));
  expect(missing).toEqual([]);

  // A torn tail was moved aside (or, if it was a complete event, kept with its newline).
  if (torn) {
    const aside = readdirSync(dir).filter((f) => f.startsWith('events.ndjson.torn-'));
    const kept = logger.messages('warn').some((m) => /newline was added/.test(m));
    expect(aside.length === 1 || kept).toBe(true);
    report.tornTailsRepaired++;
  }

  // The index agrees with the log.
  expect(stats.eventCount).toBe(events.length);
  expect(stats.oldestEvent).toBe(events.length ? Math.min(...events.map((e) => e.timestamp)) : null);
  expect(stats.newestEvent).toBe(events.length ? Math.max(...events.map((e) => e.timestamp)) : null);
  if (logger.messages('log').some((m) => /Rebuilt|Indexed/.test(m))) report.indexRepaired++;

  // And the store takes new appends, on a fresh line.
  await store.append({ ...events[0], eventId: 'after-crash', taskId: 'after', timestamp: 1 } as RunEvent);
  expect((await store.readAll()).map((e) => e.eventId)).toEqual([...ids, 'after-crash']);
  await store.close();

  report.trials++;
  report.acknowledged += acked.length;
  report.acknowledgedRecovered += acked.length - missing.length;
  report.unacknowledgedPresent += ids.length - acked.length;
  rmSync(dir, { recursive: true, force: true });
}

function writeOldStore(dir: string, count: number): number[] {
  const timestamps = Array.from({ length: count }, (_, i) => i);
  const lines = timestamps.map((ts) =>
    JSON.stringify({
      eventId: `old-${ts}`,
      taskId: `task-${ts % 5}`,
      timestamp: ts,
      toolsUsed: ['npm test'],
      violations: [],
      reworkLines: 0,
      notes: 'x'.repeat(300),
    }),
  );
  writeFileSync(join(dir, 'events.ndjson'), lines.join('\n') + '\n');
  return timestamps;
}

describe('Guarantee 1: crash at any instant loses no acknowledged event', () => {
  afterAll(removeTempDirs);

  it.each(['small', 'large'] as const)(
    `kill -9 of a writer of %s events, ${TRIALS_PER_SIZE} trials`,
    async (size) => {
      const report: CrashReport = {
        trials: 0,
        acknowledged: 0,
        acknowledgedRecovered: 0,
        unacknowledgedPresent: 0,
        tornTailsRepaired: 0,
        indexRepaired: 0,
      };
      for (let i = 0; i < TRIALS_PER_SIZE; i++) await crashTrial(size, report);
      console.log(`crash suite, ${size} events (${size === 'large' ? '~1 MiB' : '~450 B'}): ${JSON.stringify(report)}`);
      expect(report.trials).toBe(TRIALS_PER_SIZE);
      expect(report.acknowledged).toBeGreaterThan(0);
      expect(report.acknowledgedRecovered).toBe(report.acknowledged);
    },
    300_000,
  );

  it.each([
    ['compact', (old: number[]) => old.slice(-5_000)],
    ['save', (old: number[]) => old.filter((ts) => ts % 2 === 0)],
  ] as const)(
    `kill -9 in the middle of %s leaves the complete old or the complete new content, ${REWRITE_TRIALS} trials`,
    async (operation, expectedNew) => {
      const outcomes = { old: 0, new: 0 };
      // Calibrate: how long the rewrite takes here, to aim the kills inside it.
      const calibrationDir = makeTempDir('ledger-rewrite-');
      writeOldStore(calibrationDir, 20_000);
      const calibration = new LineChild(join(FIXTURES, 'rewrite-runner.js'), [calibrationDir, operation, '5000']);
      await calibration.waitFor((l) => l === 'START');
      const started = Date.now();
      await calibration.waitFor((l) => l === 'DONE');
      const duration = Math.max(5, Date.now() - started);
      await calibration.exited;

      for (let i = 0; i < REWRITE_TRIALS; i++) {
        const dir = makeTempDir('ledger-rewrite-');
        const old = writeOldStore(dir, 20_000);
        const child = new LineChild(join(FIXTURES, 'rewrite-runner.js'), [dir, operation, '5000']);
        await child.waitFor((l) => l === 'START');
        await sleep(Math.random() * duration * 1.2);
        await child.kill9();

        const store = new FileEventStore({ storagePath: dir, logger: new CapturingLogger() });
        const timestamps = (await store.readAll()).map((e) => e.timestamp);
        await store.open();
        expect((await store.getStats()).eventCount).toBe(timestamps.length);
        await store.close();
        if (timestamps.length === old.length) {
          expect(timestamps).toEqual(old);
          outcomes.old++;
        } else {
          expect(timestamps).toEqual(expectedNew(old));
          outcomes.new++;
        }
        expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
        rmSync(dir, { recursive: true, force: true });
      }
      console.log(`crash suite, kill during ${operation} (rewrite takes ~${duration} ms): ${JSON.stringify(outcomes)}`);
      expect(outcomes.old + outcomes.new).toBe(REWRITE_TRIALS);
    },
    300_000,
  );
});
