/**
 * Promise 4: disk faults surface and heal. Writes fail for real (a full tmpfs:
 * ENOSPC; the store directory replaced by a regular file: ENOTDIR/EEXIST).
 * flush() rejects with the cause, the Nest logger reports it, nothing
 * acknowledged is lost, the app keeps serving reads, and once the cause is gone
 * the queued events are written exactly once.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapturingLogger } from '../helpers/capturing-logger';
import { eventsOnDisk } from '../helpers/ndjson';
import { runEventInput } from '../helpers/run-events';
import { startSampleApp } from '../helpers/sample-app';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { mountSmallTmpfs, unmountTmpfs } from '../helpers/tmpfs';
import { waitUntil } from '../helpers/wait';

describe('Guarantee 4: disk faults surface and heal', () => {
  afterAll(removeTempDirs);

  it('ENOSPC on a full tmpfs: 503 and a logged error, reads keep working, queued events written exactly once after space is freed', async () => {
    const mount = mountSmallTmpfs('the ENOSPC scenario');
    if (!mount) return;
    try {
      const filler = join(mount, 'filler');
      writeFileSync(filler, Buffer.alloc(200 * 1024));
      const storagePath = join(mount, 'store');
      const logger = new CapturingLogger();
      const { app, call, ledger } = await startSampleApp(storagePath, logger);
      try {
        const acknowledged: string[] = [];
        let refused: { status: number; body: any } | null = null;
        for (let i = 0; i < 2_000 && !refused; i++) {
          const response = await call('POST', '/runs', runEventInput({ taskId: `disk-${i}`, timestamp: i }));
          if (response.status === 201) acknowledged.push(response.body.eventId);
          else refused = response;
        }
        expect(refused).toMatchObject({ status: 503, body: { message: expect.stringContaining('ENOSPC') } });
        expect(logger.messages('error').join('\n')).toMatch(/Ledger write failed, \d+ event\(s\) kept in memory for retry: ENOSPC/);
        // Reads keep working, and the health shows the failure.
        const stats = await call('GET', '/stats');
        expect(stats.body).toMatchObject({ lastWriteOk: false, lastWriteError: expect.stringContaining('ENOSPC'), pendingEvents: 1 });
        expect((await call('GET', '/runs?limit=1000')).body.events).toHaveLength(acknowledged.length + 1);
        await expect(ledger.flush()).rejects.toMatchObject({ code: 'ENOSPC' });
        // More events while the disk is full stay queued in memory.
        for (let i = 0; i < 5; i++) ledger.logEvent(runEventInput({ taskId: 'while-full', timestamp: 10_000 + i }));

        rmSync(filler);
        await ledger.flush();
        const onDisk = eventsOnDisk(storagePath).map((e) => e.eventId);
        expect(new Set(onDisk).size).toBe(onDisk.length);
        expect(onDisk).toEqual(ledger.getEvents().map((e) => e.eventId));
        expect(onDisk).toEqual(expect.arrayContaining(acknowledged));
        expect(onDisk).toHaveLength(acknowledged.length + 6);
        expect((await call('GET', '/stats')).body).toMatchObject({ lastWriteOk: true, pendingEvents: 0, eventCount: onDisk.length });
        console.log(
          `disk-fault suite, ENOSPC: ${acknowledged.length} acknowledged before the disk filled, 6 queued while full, ${onDisk.length} on disk after healing, 0 duplicates`,
        );
      } finally {
        await app.close();
      }
    } finally {
      unmountTmpfs(mount);
    }
  });

  it('ENOTDIR/EEXIST when the store directory is replaced by a file: the background retry heals it by itself', async () => {
    const root = makeTempDir();
    const storagePath = join(root, 'store');
    const logger = new CapturingLogger();
    const { app, call, ledger } = await startSampleApp(storagePath, logger);
    try {
      const before = await call('POST', '/runs', runEventInput({ taskId: 'before' }));
      expect(before.status).toBe(201);
      renameSync(storagePath, join(root, 'moved-away'));
      writeFileSync(storagePath, 'not a directory');

      const during = await call('POST', '/runs', runEventInput({ taskId: 'during' }));
      expect(during.status).toBe(503);
      expect(during.body.message).toMatch(/EEXIST|ENOTDIR/);
      expect(logger.messages('error').join('\n')).toMatch(/Ledger write failed/);
      expect((await call('GET', '/runs?taskId=during')).body.events).toHaveLength(1);

      rmSync(storagePath);
      mkdirSync(storagePath);
      // No flush() call: the writer's own backoff retry writes the queued event.
      await waitUntil(async () => (await ledger.getStorageStats()).pendingEvents === 0);
      expect(eventsOnDisk(storagePath).map((e) => e.taskId)).toEqual(['during']);
      expect(eventsOnDisk(join(root, 'moved-away')).map((e) => e.taskId)).toEqual(['before']);
      expect(logger.messages('log').join('\n')).toMatch(/recovered/);
      console.log('disk-fault suite, ENOTDIR: 1 event queued while the path was a file, written once by the background retry');
    } finally {
      await app.close();
    }
  });
});
