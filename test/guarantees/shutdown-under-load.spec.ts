/**
 * Promise 6: shutdown under load. app.close() while 10 000 events are being
 * logged: every event logEvent accepted before close is on disk afterwards,
 * and logEvent refuses (LedgerClosedError) instead of dropping events after it.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Test } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import { LedgerClosedError, LedgerModule, PersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { eventsOnDisk } from '../helpers/ndjson';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const TOTAL = 10_000;

describe('Guarantee 6: shutdown under load', () => {
  afterAll(removeTempDirs);

  it.each([true, false])(
    `app.close() in the middle of logging ${TOTAL} events (enableWAL %s)`,
    async (enableWAL) => {
      const dir = makeTempDir('ledger-shutdown-');
      const moduleRef = await Test.createTestingModule({
        imports: [ScheduleModule.forRoot(), LedgerModule.forRoot({ storagePath: dir, enableWAL, maxEvents: 100_000 })],
      })
        .setLogger(new CapturingLogger())
        .compile();
      const app = await moduleRef.createNestApplication({ logger: new CapturingLogger() }).init();
      const ledger = app.get(PersistentLedger);

      const accepted: string[] = [];
      let refused = 0;
      let closing: Promise<void> | null = null;
      for (let i = 0; i < TOTAL; i++) {
        try {
          accepted.push(ledger.logEvent(runEventInput({ taskId: `load-${i % 10}`, timestamp: i })).eventId);
        } catch (err) {
          expect(err).toBeInstanceOf(LedgerClosedError);
          refused++;
        }
        if (i % 100 === 99) await nextTurn();
        if (i === TOTAL / 2) closing = app.close();
      }
      await closing;

      const onDisk = eventsOnDisk(dir).map((e) => e.eventId);
      expect(onDisk).toEqual(accepted);
      expect(accepted.length + refused).toBe(TOTAL);
      console.log(
        `shutdown suite (enableWAL ${enableWAL}): ${accepted.length} accepted before close, ${onDisk.length} on disk, ${refused} refused with LedgerClosedError after close`,
      );
    },
    60_000,
  );
});
