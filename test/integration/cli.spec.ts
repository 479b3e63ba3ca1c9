/**
 * The nestjs-ledger command, run as a real child process on real stores (NDJSON directories and
 * PostgreSQL tables), a damaged one included; its progress bar under a real pseudo-terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Pool } from 'pg';
import { FileEventStore, PostgresEventStore, RunEvent, createPersistentLedger } from '../../lib';
import { displayBytes, displayTime } from '../../lib/cli/display-format';
import { CapturingLogger } from '../helpers/capturing-logger';
import { LineChild } from '../helpers/child-process';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { waitUntil } from '../helpers/wait';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'nestjs-ledger.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the command with stdout a real pipe that the reader closes after the first chunk (as `| head -1` does). */
async function cliIntoClosedPipe(...args: string[]): Promise<{ status: number | null; firstChunk: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  child.stdout.destroy();
  const [status] = await exited;
  return { status, firstChunk: first.toString('utf8'), stderr };
}

/** Events with known ids and times, one per task `t0`..`t2` in turn. */
function sampleEvents(count: number, start = 0): RunEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    ...runEventInput({ taskId: `t${(start + i) % 3}`, timestamp: 1_000 * (start + i) }),
    eventId: `e${start + i}`,
  })) as RunEvent[];
}

/** An NDJSON store written by the library (so its index is in place), closed. */
async function ndjsonStore(events: RunEvent[]): Promise<string> {
  const dir = makeTempDir('ledger-cli-');
  const store = new FileEventStore({ storagePath: dir, logger: new CapturingLogger() });
  store.enqueue(events);
  await store.close();
  return dir;
}

const noNestLogLines = (text: string) => {
  expect(text).not.toContain('\x1b[');
  expect(text).not.toMatch(/\[Nest\]/);
};

describe('nestjs-ledger command', () => {
  afterAll(removeTempDirs);

  it('--help on the program and on every command goes to stdout, says what it does and the exit codes', () => {
    const top = cli('--help');
    expect(top.status).toBe(0);
    for (const name of ['stats', 'verify', 'tail', 'export', 'compact', 'copy']) expect(top.stdout).toContain(name);
    expect(top.stdout).toContain('Exit status: 0 done');
    for (const [name, says] of [
      ['stats', 'event count, time span, size, corrupt lines, index health'],
      ['verify', 'exit 3 if the store is damaged'],
      ['tail', 'with -f, keep printing events as they are stored'],
      ['export', 'as NDJSON or CSV'],
      ['compact', 'Keep the newest --max-events events'],
      ['copy', 'NDJSON to PostgreSQL and back'],
    ]) {
      const help = cli(name, '--help');
      expect(help).toMatchObject({ status: 0, stderr: '' });
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(says);
      expect(help.stdout.replace(/\s+/g, ' ')).toContain('4 the store is locked by a running app');
    }
  });

  it('wrong usage exits 2 with a message on stderr; a missing store exits 1 and creates nothing', () => {
    expect(cli()).toMatchObject({ status: 2, stdout: '', stderr: expect.stringContaining('Usage: nestjs-ledger') });
    expect(cli('frobnicate')).toMatchObject({ status: 2, stdout: '', stderr: expect.stringContaining("unknown command 'frobnicate'") });
    expect(cli('compact', makeTempDir())).toMatchObject({ status: 2, stderr: expect.stringContaining("required option '--max-events <count>'") });
    expect(cli('compact', '--max-events', 'many', makeTempDir())).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('must be a positive integer'),
    });
    const nowhere = join(makeTempDir(), 'nothing-here');
    for (const command of [['stats'], ['verify'], ['export'], ['tail'], ['compact', '--max-events', '5']]) {
      expect(cli(...command, nowhere)).toMatchObject({ status: 1, stderr: expect.stringContaining(`No NDJSON store at ${nowhere}`) });
    }
    expect(existsSync(nowhere)).toBe(false);
  });

  describe('on an NDJSON store', () => {
    const events = sampleEvents(30);

    it('stats: counts, span, size, corrupt lines and index health, for people and as JSON', async () => {
      const dir = await ndjsonStore(events);
      const human = cli('stats', dir);
      expect(human.status).toBe(0);
      expect(human.stdout).toMatch(/^store +.* \(ndjson\)$/m);
      expect(human.stdout).toMatch(/^events +30$/m);
      expect(human.stdout).toContain(`${new Date(0).toISOString()} .. ${new Date(29_000).toISOString()}`);
      expect(human.stdout).toMatch(/^index +matches the log$/m);
      const json = JSON.parse(cli('stats', '--json', dir).stdout);
      expect(json).toMatchObject({
        store: dir,
        driver: 'ndjson',
        eventCount: 30,
        corruptLines: 0,
        oldestEvent: 0,
        newestEvent: 29_000,
        index: 'matches the log',
      });
    });

    it('verify: a sound store exits 0; damaged lines are reported with line number and byte offset, exit 3', async () => {
      const dir = await ndjsonStore(events);
      expect(cli('verify', dir)).toMatchObject({ status: 0, stdout: expect.stringContaining('The store is sound.') });

      // Damage: a line that is not JSON, one that is not a valid event, and a torn last line.
      const log = join(dir, 'events.ndjson');
      const lines = readFileSync(log, 'utf8').split('\n').slice(0, -1);
      lines.splice(10, 0, '{"taskId": "broken"');
      lines.splice(20, 0, JSON.stringify({ taskId: 't', timestamp: 'yesterday' }));
      const text = lines.join('\n') + '\n{"torn';
      writeFileSync(log, text);
      const offsetOf = (lineIndex: number) => Buffer.byteLength(lines.slice(0, lineIndex).join('\n')) + 1;

      const report = cli('verify', dir);
      expect(report.status).toBe(3);
      expect(report.stdout).toContain('read 32 record(s), 30 valid event(s), 3 damaged');
      expect(report.stdout).toContain(`damaged: line 11 (byte ${offsetOf(10)}): not JSON`);
      expect(report.stdout).toContain(`damaged: line 21 (byte ${offsetOf(20)}): Invalid run event: "timestamp" must be a finite number`);
      expect(report.stdout).toContain(`damaged: line 33 (byte ${Buffer.byteLength(lines.join('\n')) + 1}): incomplete last line`);
      expect(report.stdout).toContain('The store is damaged (exit status 3).');
      const json = JSON.parse(cli('verify', '--json', dir).stdout);
      expect(json).toMatchObject({ sound: false, records: 32, events: 30, damagedCount: 3 });
      expect(json.damaged[0]).toEqual({ line: 11, byteOffset: offsetOf(10), reason: expect.stringContaining('not JSON') });
      noNestLogLines(report.stderr);
    });

    it('verify: an index that disagrees with the log makes the store unsound', async () => {
      const dir = await ndjsonStore(events);
      const indexPath = join(dir, 'index.json');
      const index = JSON.parse(readFileSync(indexPath, 'utf8'));
      writeFileSync(indexPath, JSON.stringify({ ...index, eventCount: 31 }));
      const report = cli('verify', dir);
      expect(report.status).toBe(3);
      expect(report.stdout).toContain('index: index.json says eventCount 31, the log has 30');
    });

    it('export: NDJSON to stdout with task and time filters; CSV to a file with a summary', async () => {
      const dir = await ndjsonStore(events);
      const all = cli('export', dir);
      expect(all.status).toBe(0);
      expect(
        all.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).eventId),
      ).toEqual(events.map((e) => e.eventId));
      const filtered = cli('export', '--task', 't1', '--from', '4000', '--to', new Date(16_000).toISOString(), dir);
      expect(
        filtered.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).eventId),
      ).toEqual(['e4', 'e7', 'e10', 'e13', 'e16']);
      const out = join(makeTempDir(), 'events.csv');
      const csv = cli('export', '--format', 'csv', '--out', out, dir);
      expect(csv).toMatchObject({ status: 0, stdout: `Exported 30 event(s) to ${out} (csv).\n` });
      const rows = readFileSync(out, 'utf8').trim().split('\n');
      expect(rows[0].split(',').slice(0, 3)).toEqual(['eventId', 'taskId', 'guidanceHash']);
      expect(rows).toHaveLength(31);
      expect(rows[1]).toMatch(/^e0,t0,/);
      expect(cli('export', '--format', 'xml', dir)).toMatchObject({ status: 2, stderr: expect.stringContaining('Allowed choices are ndjson, csv') });
    });

    it('tail: the last events; -f prints events as the app stores them, until interrupted', async () => {
      const dir = await ndjsonStore(events);
      const last = cli('tail', '-n', '3', dir);
      expect(last.status).toBe(0);
      expect(last.stdout.trim().split('\n')).toEqual(
        events
          .slice(-3)
          .map((e) => `${new Date(e.timestamp).toISOString()}  ${e.taskId}  ${e.eventId}  tests 1 passed 0 failed, 0 violation(s), accepted`),
      );
      expect(
        cli('tail', '--json', '--task', 't2', '-n', '2', dir)
          .stdout.trim()
          .split('\n')
          .map((l) => JSON.parse(l).eventId),
      ).toEqual(['e26', 'e29']);

      // The app writes the store (holding its lock) while the command follows it.
      const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, logger: new CapturingLogger() });
      await ledger.init();
      const follower = new LineChild(CLI, ['tail', '-f', '--json', '-n', '1', dir]);
      try {
        await follower.waitFor((line) => line.includes('"e29"'));
        const live = ledger.logEvent(runEventInput({ taskId: 'live' }));
        await ledger.flush();
        const printed = JSON.parse(await follower.waitFor((line) => line.includes(live.eventId)));
        expect(printed).toEqual(live);
      } finally {
        follower.process.kill('SIGINT');
        await ledger.close();
      }
      expect((await follower.exited).code).toBe(0);
    });

    it('stats: the size in the unit that fits it (B, KiB, MiB, GiB)', async () => {
      const dir = await ndjsonStore(sampleEvents(1));
      const size = JSON.parse(cli('stats', '--json', dir).stdout).storageSizeBytes;
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThan(1024);
      expect(cli('stats', dir).stdout).toMatch(new RegExp(`^size +${size} B$`, 'm'));
      expect(cli('stats', await ndjsonStore(events)).stdout).toMatch(/^size +\d+\.\d KiB$/m);
    });

    it('stats and tail show a stored timestamp that is not a date as its number, and exit 0', async () => {
      const dir = await ndjsonStore(sampleEvents(3));
      // Written directly, as another tool or an older release could have: 1.7e18 ms is past the year 275760.
      appendFileSync(join(dir, 'events.ndjson'), JSON.stringify({ ...sampleEvents(1, 3)[0], eventId: 'far', timestamp: 1.7e18 }) + '\n');
      const stats = cli('stats', dir);
      expect(stats).toMatchObject({ status: 0, stderr: expect.not.stringContaining('Invalid time value') });
      expect(stats.stdout).toMatch(/^span +\S+/m);
      const tail = cli('tail', dir);
      expect(tail).toMatchObject({ status: 0, stderr: expect.not.stringContaining('Invalid time value') });
      expect(tail.stdout).toContain(`${new Date(2_000).toISOString()}  t2  e2`);
      // Whether the line is read as an event depends on the validator; when it is, its time is shown as a number.
      if (stats.stdout.includes('1700000000000000000')) expect(stats.stdout).toContain('.. 1700000000000000000 (not a date)');
      if (tail.stdout.includes('far')) expect(tail.stdout).toContain('1700000000000000000 (not a date)  t0  far');
    });

    it('export --format csv: cells that a spreadsheet would run as formulas start with a quote; --csv-raw leaves them as stored', async () => {
      // Every formula trigger OWASP lists (= + - @ tab CR) leading a cell, in the string columns people can log.
      const payloads = [
        '=HYPERLINK("http://evil","x")',
        "=cmd|' /C calc'!A0",
        '=1+1',
        '=SUM(A1:A2)',
        '=DDE("cmd";"/C calc";"!A0")',
        '+1+1',
        "+cmd|' /C calc'!A0",
        '+HYPERLINK("http://evil")',
        '-1+1',
        "-cmd|' /C calc'!A0",
        '-2',
        '@SUM(1+1)',
        "@SUM(1+1)*cmd|' /C calc'!A0",
        '@HYPERLINK("http://evil")',
        '\t=1+1',
        "\t=cmd|' /C calc'!A0",
        '\t+1',
        '\r=1+1',
        "\r=cmd|' /C calc'!A0",
        '\r-1',
        '\r\n=1+1',
      ];
      expect(payloads).toHaveLength(21);
      const logged = payloads.map((payload, i) => ({
        ...runEventInput({ taskId: payload, guidanceHash: payload, sessionId: payload, timestamp: -1_000 * (i + 1), durationMs: -5 }),
        eventId: `x${i}`,
      })) as RunEvent[];
      const dir = await ndjsonStore(logged);
      const read = (...extra: string[]) => {
        const run = cli('export', '--format', 'csv', ...extra, dir);
        expect(run).toMatchObject({ status: 0, stderr: '' });
        return { text: run.stdout, rows: parse(run.stdout, { columns: true }) as Record<string, string>[] };
      };

      const safe = read();
      expect(safe.rows).toHaveLength(21);
      safe.rows.forEach((row, i) => {
        for (const column of ['taskId', 'guidanceHash', 'sessionId']) expect(row[column]).toBe(`'${payloads[i]}`);
        // The ledger's own numbers are not formulas: a negative number stays a number.
        expect(row.timestamp).toBe(String(-1_000 * (i + 1)));
        expect(row.durationMs).toBe('-5');
        expect(row.eventId).toBe(`x${i}`);
        expect(row.outcomeAccepted).toBe('true');
      });
      // Each neutralised cell is quoted as well.
      expect(safe.text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
      expect(safe.text).toContain(`"'-2"`);

      const raw = read('--csv-raw');
      raw.rows.forEach((row, i) => expect([row.taskId, row.guidanceHash, row.sessionId]).toEqual([payloads[i], payloads[i], payloads[i]]));
      expect(cli('export', '--csv-raw', dir)).toMatchObject({ status: 2, stderr: expect.stringContaining('--csv-raw applies to --format csv') });
    });

    it('a closed output pipe ends tail and export quietly with status 0; an --out that cannot be created is a plain message, exit 1', async () => {
      const dir = await ndjsonStore(sampleEvents(5_000));
      for (const args of [
        ['tail', '-n', '20000', dir],
        ['export', '--format', 'csv', dir],
        ['export', dir],
      ]) {
        const piped = await cliIntoClosedPipe(...args);
        expect(piped.firstChunk.length).toBeGreaterThan(0);
        expect(piped).toMatchObject({ status: 0, stderr: '' });
      }
      const out = join(makeTempDir(), 'missing-dir', 'x.csv');
      const failed = cli('export', '--format', 'csv', '--out', out, dir);
      expect(failed).toMatchObject({ status: 1, stdout: '' });
      expect(failed.stderr).toBe(`nestjs-ledger: cannot write ${out}: ENOENT: no such file or directory, open '${out}'\n`);
    });

    it('tail -n 0 prints no stored event; tail -f -n 0 prints only the new ones, and polls without piling up abort listeners', async () => {
      const dir = await ndjsonStore(events);
      expect(cli('tail', '-n', '0', dir)).toMatchObject({ status: 0, stdout: '', stderr: '' });
      expect(cli('tail', '-n', '-1', dir)).toMatchObject({ status: 2, stderr: expect.stringContaining('must be a non-negative integer') });

      const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, logger: new CapturingLogger() });
      await ledger.init();
      const follower = new LineChild(CLI, ['tail', '-f', '--json', '-n', '0', dir]);
      try {
        // Until the command has caught up, a logged event is a stored one (not printed): log until one is printed.
        await waitUntil(async () => {
          ledger.logEvent(runEventInput({ taskId: 'live' }));
          await ledger.flush();
          return follower.lines.length > 0;
        });
        // Each event waits for the line of the previous one: over a dozen polls of the file (one abort listener each before the fix).
        for (let i = 0; i < 15; i++) {
          const live = ledger.logEvent(runEventInput({ taskId: 'live' }));
          await ledger.flush();
          await follower.waitFor((line) => line.includes(live.eventId));
        }
      } finally {
        follower.process.kill('SIGINT');
        await ledger.close();
      }
      expect((await follower.exited).code).toBe(0);
      // The events logged before the command caught up are stored ones: only 'live' events are printed, never e0..e29.
      expect(follower.lines.map((line) => JSON.parse(line).taskId)).toEqual(follower.lines.map(() => 'live'));
      expect(follower.lines.length).toBeGreaterThan(0);
      expect(follower.stderr).toBe('');
    });

    it('compact: refuses while an app holds the store (exit 4), evicts the oldest once it is stopped', async () => {
      const dir = await ndjsonStore(events);
      const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, logger: new CapturingLogger() });
      await ledger.init();
      const refused = cli('compact', '--max-events', '10', dir);
      expect(refused).toMatchObject({ status: 4, stderr: expect.stringContaining('Stop the app that writes this store first.') });
      await ledger.close();
      const done = cli('compact', '--max-events', '10', '--json', dir);
      expect(done.status).toBe(0);
      expect(JSON.parse(done.stdout)).toEqual({ store: dir, evicted: 20, eventCount: 10 });
      expect(
        cli('export', dir)
          .stdout.trim()
          .split('\n')
          .map((l) => JSON.parse(l).eventId),
      ).toEqual(events.slice(20).map((e) => e.eventId));
    });
  });

  describe('on PostgreSQL', () => {
    const server = usePostgres();

    it('copy NDJSON -> PostgreSQL -> NDJSON keeps every event in order; a second run copies nothing twice', async () => {
      const source = await ndjsonStore(sampleEvents(25));
      const schema = uniqueSchema('cli_copy');
      const url = server().connectionString;
      const first = cli('copy', '--from', source, '--to', url, '--schema', schema);
      expect(first.status).toBe(0);
      expect(first.stdout).toContain(
        `Read 25 event(s) from ${source} (ndjson): copied 25 new, 0 already there; "${schema}"."ledger_events" (postgres) now holds 25.`,
      );
      expect(JSON.parse(cli('copy', '--from', source, '--to', url, '--schema', schema, '--json').stdout)).toMatchObject({
        read: 25,
        copied: 0,
        targetCount: 25,
      });

      const back = join(makeTempDir(), 'back');
      expect(cli('copy', '--from', url, '--schema', schema, '--to', back)).toMatchObject({
        status: 0,
        stdout: expect.stringContaining('copied 25 new'),
      });
      expect(cli('copy', '--from', url, '--schema', schema, '--to', back, '--json').stdout).toContain('"copied":0');
      const roundTrip = await new FileEventStore({ storagePath: back, logger: new CapturingLogger() }).readAll();
      expect(roundTrip).toEqual(await new FileEventStore({ storagePath: source, logger: new CapturingLogger() }).readAll());
    });

    it('stats, verify (a damaged row reported by position and event_id), export, tail -f and compact', async () => {
      const schema = uniqueSchema('cli_pg');
      const url = server().connectionString;
      const store = new PostgresEventStore({ connectionString: url, schema, logger: new CapturingLogger() });
      store.enqueue(sampleEvents(12));
      await store.close();
      const args = (...rest: string[]) => [...rest, '--schema', schema, url];

      expect(JSON.parse(cli(...args('stats', '--json')).stdout)).toMatchObject({ driver: 'postgres', eventCount: 12, index: null });
      expect(cli(...args('verify'))).toMatchObject({ status: 0, stdout: expect.stringContaining('read 12 record(s), 12 valid event(s), 0 damaged') });
      const pool = new Pool({ connectionString: url });
      try {
        const { rows } = await pool.query(
          `INSERT INTO "${schema}".ledger_events (event_id, task_id, ts, event) VALUES ('bad-row', 't', 1, '{"taskId": 5}') RETURNING position`,
        );
        const report = cli(...args('verify'));
        expect(report.status).toBe(3);
        expect(report.stdout).toContain(
          `damaged: position ${rows[0].position} (event_id bad-row): Invalid run event: "taskId" must be a non-empty string (got 5)`,
        );
      } finally {
        await pool.end();
      }
      expect(
        cli(...args('export', '--task', 't0'))
          .stdout.trim()
          .split('\n')
          .map((l) => JSON.parse(l).eventId),
      ).toEqual(['e0', 'e3', 'e6', 'e9']);

      const writer = createPersistentLedger({
        store: new PostgresEventStore({ connectionString: url, schema, logger: new CapturingLogger() }),
        compactIntervalMs: 0,
        logger: new CapturingLogger(),
      });
      await writer.init();
      const follower = new LineChild(CLI, ['tail', '-f', '--json', '-n', '1', '--schema', schema, url]);
      try {
        await follower.waitFor((line) => line.includes('"e11"'));
        const live = writer.logEvent(runEventInput({ taskId: 'live-pg' }));
        await writer.flush();
        expect(JSON.parse(await follower.waitFor((line) => line.includes(live.eventId)))).toEqual(live);
      } finally {
        follower.process.kill('SIGINT');
        await writer.close();
      }
      expect((await follower.exited).code).toBe(0);
      expect(JSON.parse(cli(...args('compact', '--max-events', '5', '--json')).stdout)).toMatchObject({ evicted: 9, eventCount: 5 });
    });
    it('read commands never migrate: a version 3 table is read as it is, an older one is refused naming the versions (exit 1)', async () => {
      const url = server().connectionString;
      const pool = new Pool({ connectionString: url });
      const versions = async (schema: string) =>
        (await pool.query(`SELECT version FROM "${schema}".ledger_events_schema ORDER BY version`)).rows.map((r) => r.version);
      try {
        // Version 3: what the release before the notify trigger left (as in postgres-module.spec.ts).
        const v3 = uniqueSchema('cli_v3');
        const store = new PostgresEventStore({ connectionString: url, schema: v3, logger: new CapturingLogger() });
        store.enqueue(sampleEvents(4));
        await store.close();
        await pool.query(`DROP TRIGGER ledger_events_notify ON "${v3}".ledger_events; DROP FUNCTION "${v3}".ledger_events_notify();
          DROP INDEX "${v3}".ledger_events_task_idx; CREATE INDEX ledger_events_task_idx ON "${v3}".ledger_events (task_id, position);
          DELETE FROM "${v3}".ledger_events_schema WHERE version = 4`);
        expect(JSON.parse(cli('stats', '--json', '--schema', v3, url).stdout)).toMatchObject({ eventCount: 4 });
        expect(cli('verify', '--schema', v3, url)).toMatchObject({ status: 0, stdout: expect.stringContaining('4 valid event(s)') });
        expect(cli('export', '--task', 't1', '--schema', v3, url).stdout).toContain('"e1"');
        expect(cli('tail', '-n', '1', '--schema', v3, url).stdout).toContain('e3');
        expect(await versions(v3)).toEqual([1, 2, 3]);
        const { rows: triggers } = await pool.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_events_notify' AND tgrelid = $1::regclass`, [
          `"${v3}".ledger_events`,
        ]);
        expect(triggers).toEqual([]);

        // Version 2: before the feed; the read path needs its column, so the commands say so and change nothing.
        await pool.query(`DROP TABLE "${v3}".ledger_events_feed; ALTER TABLE "${v3}".ledger_events DROP COLUMN tx;
          DELETE FROM "${v3}".ledger_events_schema WHERE version = 3`);
        for (const command of ['stats', 'verify', 'export', 'tail']) {
          const refused = cli(command, '--schema', v3, url);
          expect(refused).toMatchObject({ status: 1, stdout: '' });
          expect(refused.stderr).toContain(`"${v3}"."ledger_events" has schema version 2; reading it needs version 3 or later`);
        }
        expect(await versions(v3)).toEqual([1, 2]);
        const { rows: columns } = await pool.query(
          `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'ledger_events' AND column_name = 'tx'`,
          [v3],
        );
        expect(columns).toEqual([]);
      } finally {
        await pool.end();
      }
    });
  });

  describe('display formats', () => {
    it('a time outside the Date range, NaN or Infinity is shown as its number with a marker instead of throwing', () => {
      expect(displayTime(0)).toBe('1970-01-01T00:00:00.000Z');
      expect(displayTime(8.64e15)).toBe('+275760-09-13T00:00:00.000Z');
      expect(displayTime(1.7e18)).toBe('1700000000000000000 (not a date)');
      expect(displayTime(-8.64e15 - 1)).toBe('-8640000000000001 (not a date)');
      expect(displayTime(NaN)).toBe('NaN (not a date)');
      expect(displayTime(Infinity)).toBe('Infinity (not a date)');
    });

    it('sizes in the unit that fits them', () => {
      expect(displayBytes(0)).toBe('0 B');
      expect(displayBytes(1_069)).toBe('1.0 KiB');
      expect(displayBytes(1_023)).toBe('1023 B');
      expect(displayBytes(5 * 1024 * 1024 + 300_000)).toBe('5.3 MiB');
      expect(displayBytes(3 * 1024 ** 3)).toBe('3.00 GiB');
    });
  });

  describe('progress bar', () => {
    it('is drawn with rate and ETA on a terminal (a real pseudo-terminal), and not when stderr is piped unless forced', async () => {
      const dir = await ndjsonStore(sampleEvents(2_000));
      const script = spawnSync('script', ['-qec', `${process.execPath} ${CLI} verify ${dir}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
      if (script.error) {
        console.log(`SKIPPED the pseudo-terminal check: util-linux script is not available (${script.error.message})`);
      } else {
        expect(script.status).toBe(0);
        expect(script.stdout).toMatch(/verify \[=+\] 100% \| [\d.]+ (KiB|MiB) \/ [\d.]+ (KiB|MiB) \| [\d.]+ (KiB|MiB)\/s \| ETA \d+s/);
        expect(script.stdout).toContain('The store is sound.');
      }
      const piped = cli('verify', dir);
      expect(piped).toMatchObject({ status: 0, stderr: '' });
      const forced = cli('verify', '--progress', dir);
      expect(forced.stderr).toMatch(/verify \[=+\] 100%/);
      expect(forced.stdout).toContain('The store is sound.');
      expect(cli('export', '--progress', '--out', join(makeTempDir(), 'x.ndjson'), dir).stderr).toMatch(
        /export \[=+\] 100% \| 2,000 events \/ 2,000 events/,
      );
    });
  });
});
