/**
 * A stored event whose timestamp no JavaScript Date can hold (beyond ±8.64e15 ms: a client that
 * sent nanoseconds, before the ledger refused them) is treated the same on both stores: reads
 * validate it like input, so loads skip it and count it as corrupt, stats span only real dates,
 * and verify() reports it with the reason.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { FileEventStore, PersistentLedger, PostgresEventStore, RunLedger, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const NANOSECONDS = 1.7e18;
const REASON =
  /^Invalid run event: "timestamp" must be epoch milliseconds within ±8\.64e15, .*\(got 1700000000000000000: nanoseconds\? Divide by 1e6\)$/;

/** A valid event at 1000 ms, and the same event stored with a timestamp in nanoseconds (as an older release accepted). */
const valid = new RunLedger().logEvent(runEventInput({ taskId: 'ms', timestamp: 1_000 }));
const inNanoseconds = { ...new RunLedger().logEvent(runEventInput({ taskId: 'ns', timestamp: 1_000 })), timestamp: NANOSECONDS };

async function loaded(ledger: PersistentLedger) {
  await ledger.init();
  const result = { events: ledger.getEvents(), stats: await ledger.getStorageStats() };
  await ledger.close();
  return result;
}

describe('stored timestamps no Date can hold', () => {
  const server = usePostgres();
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ connectionString: server().connectionString });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    removeTempDirs();
  });

  it('NDJSON: the line is skipped and counted as corrupt (even under an index.json an older release wrote counting it), and verify names the reason', async () => {
    const dir = makeTempDir();
    const log = join(dir, 'events.ndjson');
    writeFileSync(log, `${JSON.stringify(valid)}\n${JSON.stringify(inNanoseconds)}\n`);
    // What an older release left: an index that describes this very log and counts the event as valid.
    const { ino, size } = statSync(log);
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({
        eventCount: 2,
        oldestTimestamp: 1_000,
        newestTimestamp: NANOSECONDS,
        taskIds: ['ms', 'ns'],
        // The index version of the releases that accepted such timestamps.
        version: 3,
        logSizeBytes: size,
        logInode: ino,
        corruptLines: 0,
        blocks: [0, 1_000, NANOSECONDS],
      }),
    );

    const verification = await new FileEventStore({ storagePath: dir }).verify();
    expect(verification).toMatchObject({ sound: false, records: 2, events: 1, damagedCount: 1 });
    expect(verification.damaged).toEqual([
      { line: 2, byteOffset: Buffer.byteLength(JSON.stringify(valid)) + 1, reason: expect.stringMatching(REASON) },
    ]);

    const { events, stats } = await loaded(createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, logger: new CapturingLogger() }));
    expect(events).toEqual([valid]);
    expect(stats).toMatchObject({ eventCount: 1, corruptLines: 1, oldestEvent: 1_000, newestEvent: 1_000 });
  });

  it('PostgreSQL: a row inserted directly is skipped and counted as corrupt the same way, and verify names the same reason', async () => {
    const schema = uniqueSchema('ns');
    const store = () => new PostgresEventStore({ connectionString: server().connectionString, schema, logger: new CapturingLogger() });
    const setup = store();
    await setup.open();
    const insert = (event: { eventId: string; taskId: string; timestamp: number }) =>
      pool.query(`INSERT INTO "${schema}".ledger_events (event_id, task_id, ts, event) VALUES ($1, $2, $3, $4::json)`, [
        event.eventId,
        event.taskId,
        event.timestamp,
        JSON.stringify(event),
      ]);
    await insert(valid);
    await insert(inNanoseconds);
    await setup.close();

    const verifier = store();
    const verification = await verifier.verify();
    await verifier.close();
    expect(verification).toMatchObject({ sound: false, records: 2, events: 1, damagedCount: 1 });
    expect(verification.damaged).toEqual([{ position: expect.any(String), eventId: inNanoseconds.eventId, reason: expect.stringMatching(REASON) }]);

    const { events, stats } = await loaded(createPersistentLedger({ store: store(), compactIntervalMs: 0, logger: new CapturingLogger() }));
    expect(events).toEqual([valid]);
    // The span is that of the events a load gives, as on NDJSON (the row count is the server's: both rows).
    expect(stats).toMatchObject({ corruptLines: 1, oldestEvent: 1_000, newestEvent: 1_000 });
  });
});
