import { RunLedger } from '../../lib';
import { newEventId } from '../../lib/events/event-id';
import { runEventInput } from '../helpers/run-events';
import { sleep } from '../helpers/child-process';

describe('event ids', () => {
  it('logEvent gives UUIDv7 ids: unique, carrying the time, later ones sorting later', async () => {
    const ledger = new RunLedger();
    const before = Date.now();
    const first = ledger.logEvent(runEventInput()).eventId;
    await sleep(3);
    const second = ledger.logEvent(runEventInput()).eventId;
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second > first).toBe(true);
    const millis = parseInt(first.replace('-', '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(Date.now());
    const many = Array.from({ length: 100_000 }, newEventId);
    expect(new Set(many).size).toBe(many.length);
  });

  it('ids made in a tight loop are strictly increasing as strings, and all UUIDv7 (version and variant bits)', () => {
    const ids = Array.from({ length: 100_000 }, newEventId);
    const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (let i = 0; i < ids.length; i++) {
      if (!uuidV7.test(ids[i])) throw new Error(`id ${i} is not a UUIDv7: ${ids[i]}`);
      if (i > 0 && !(ids[i] > ids[i - 1])) throw new Error(`id ${i} does not sort after id ${i - 1}: ${ids[i - 1]} then ${ids[i]}`);
    }
  });
});
