/**
 * Promise 5: corrupt files never crash a load. Garbage lines are skipped and
 * counted in the storage stats, and logged once.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { LedgerModule, PersistentLedger, RunLedger, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const factory = new RunLedger();
const lineOf = (ts: number) => JSON.stringify(factory.logEvent(runEventInput({ timestamp: ts, taskId: `t${ts}` })));

function storeWith(files: Record<string, string | Buffer>): string {
  const dir = makeTempDir('ledger-corrupt-');
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

async function load(dir: string) {
  const logger = new CapturingLogger();
  const ledger = createPersistentLedger({ storagePath: dir, logger, compactIntervalMs: 0 });
  await ledger.init();
  const stats = await ledger.getStorageStats();
  await ledger.load();
  await ledger.destroy();
  return { ledger, stats, logger };
}

describe('Guarantee 5: corrupt files never crash a load', () => {
  afterAll(removeTempDirs);

  const garbage = Buffer.concat([Buffer.from('{"taskId":"broken",'), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from('}')]);
  const cases: [string, Record<string, string | Buffer>, number, number][] = [
    ['garbage lines in the middle', { 'events.ndjson': `${lineOf(1)}\nnot json\n${lineOf(2)}\n{"half":\n${lineOf(3)}\n` }, 3, 2],
    [
      'binary garbage and invalid UTF-8 in the middle',
      { 'events.ndjson': Buffer.concat([Buffer.from(`${lineOf(1)}\n`), garbage, Buffer.from(`\n${lineOf(2)}\n`)]) },
      2,
      1,
    ],
    [
      'JSON that is not an event',
      { 'events.ndjson': `${lineOf(1)}\n[1,2,3]\n"text"\n{"taskId":5,"timestamp":1}\n{"taskId":"t","timestamp":"x"}\n` },
      1,
      4,
    ],
    ['a truncated index.json', { 'events.ndjson': `${lineOf(1)}\n${lineOf(2)}\n`, 'index.json': '{"eventCount": 2, "oldestTimest' }, 2, 0],
    ['a garbage index.json', { 'events.ndjson': `${lineOf(1)}\n`, 'index.json': Buffer.from([0, 1, 2, 3, 255]) }, 1, 0],
    ['an index.json of the wrong shape', { 'events.ndjson': `${lineOf(1)}\n`, 'index.json': '{"eventCount":"many","taskIds":{}}' }, 1, 0],
    ['an empty events.ndjson and empty index.json', { 'events.ndjson': '', 'index.json': '' }, 0, 0],
    ['only blank lines', { 'events.ndjson': '\n\n  \n\n' }, 0, 0],
    ['Windows line endings', { 'events.ndjson': `${lineOf(1)}\r\n${lineOf(2)}\r\n` }, 2, 0],
  ];

  it.each(cases)('%s', async (_label, files, expectedEvents, expectedCorrupt) => {
    const { ledger, stats, logger } = await load(storeWith(files));
    expect(ledger.eventCount).toBe(expectedEvents);
    expect(stats).toMatchObject({ eventCount: expectedEvents, corruptLines: expectedCorrupt });
    const warnings = logger.messages('warn').filter((m) => /unreadable line/.test(m));
    expect(warnings).toHaveLength(expectedCorrupt > 0 ? 1 : 0);
  });

  it('a line longer than the reader allows is counted as corrupt, not loaded into one buffer', async () => {
    const dir = storeWith({ 'events.ndjson': `${lineOf(1)}\n${'x'.repeat(3 * 1024 * 1024)}\n${lineOf(2)}\n` });
    const logger = new CapturingLogger();
    const ledger = createPersistentLedger({ storagePath: dir, logger, compactIntervalMs: 0, maxEventBytes: 1024 * 1024 });
    await ledger.init();
    expect(ledger.eventCount).toBe(2);
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 2, corruptLines: 1 });
    await ledger.destroy();
  });

  it('a store written by the original design opens, and compaction moves corrupt lines aside', async () => {
    const dir = makeTempDir();
    cpSync(join(__dirname, '..', 'fixtures', 'original-store'), dir, { recursive: true });
    const { ledger, stats } = await load(dir);
    expect(ledger.eventCount).toBe(12);
    expect(stats).toMatchObject({ eventCount: 12, corruptLines: 0, oldestEvent: 1_700_000_000_000 });

    const damaged = storeWith({ 'events.ndjson': `${lineOf(1)}\nnot json\n${lineOf(2)}\n${lineOf(3)}\n` });
    const logger = new CapturingLogger();
    const compacting = createPersistentLedger({ storagePath: damaged, logger, maxEvents: 2, compactIntervalMs: 0 });
    await compacting.init();
    expect(await compacting.compact()).toBe(1);
    expect(await compacting.getStorageStats()).toMatchObject({ eventCount: 2, corruptLines: 0 });
    expect(logger.messages('warn').join('\n')).toMatch(/moved 1 unreadable line/);
    await compacting.destroy();
  });

  it('a Nest app boots on a corrupt store and serves what could be read', async () => {
    const dir = storeWith({ 'events.ndjson': `${lineOf(1)}\n\u0000\u0000garbage\n${lineOf(2)}\n{"torn":`, 'index.json': 'nonsense' });
    const moduleRef = await Test.createTestingModule({ imports: [LedgerModule.forRoot({ storagePath: dir, compaction: false })] })
      .setLogger(new CapturingLogger())
      .compile();
    const app = await moduleRef.createNestApplication({ logger: new CapturingLogger() }).init();
    const ledger = app.get(PersistentLedger);
    expect(ledger.getEvents().map((e) => e.timestamp)).toEqual([1, 2]);
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 2, corruptLines: 1 });
    await app.close();
  });
});
