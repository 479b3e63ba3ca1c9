/**
 * How to unit-test code that uses the ledger: the module with the in-memory store.
 * No files, no database, no cron (compaction: false needs no ScheduleModule).
 */
import { Test, TestingModule } from '@nestjs/testing';
import { LedgerModule, LedgerValidationError, MemoryEventStore, PersistentLedger } from 'nestjs-ledger';
import { RunsController } from '../src/runs.controller';

describe('RunsController (unit, in-memory ledger)', () => {
  let moduleRef: TestingModule;
  let controller: RunsController;
  let store: MemoryEventStore;

  beforeEach(async () => {
    store = new MemoryEventStore();
    moduleRef = await Test.createTestingModule({
      imports: [LedgerModule.forRoot({ store, compaction: false })],
      controllers: [RunsController],
    }).compile();
    await moduleRef.init();
    controller = moduleRef.get(RunsController);
  });

  afterEach(() => moduleRef.close());

  it('logs a run, and the metrics and ranking count it', async () => {
    const stored = await controller.logRun({
      taskId: 'task-1',
      timestamp: 1_000,
      violations: [{ ruleId: 'no-any', description: 'uses any', severity: 'low', autoCorrected: false }],
    });
    expect(stored.eventId).toEqual(expect.any(String));
    expect(controller.listRuns('task-1')).toEqual({ events: [stored], next: null });
    expect(controller.metrics()).toMatchObject({ taskCount: 1, violationRate: 10 });
    expect(controller.violations()).toEqual([expect.objectContaining({ ruleId: 'no-any', frequency: 1 })]);
    // What the store holds: the same event, read back through the store's contract.
    expect(await store.readAll()).toEqual([stored]);
    expect(moduleRef.get(PersistentLedger).eventCount).toBe(1);
  });

  it('an invalid run is refused with the field, and nothing is stored', async () => {
    await expect(controller.logRun({ taskId: 'task-1', timestamp: Number.NaN })).rejects.toThrow(LedgerValidationError);
    expect(await store.readAll()).toEqual([]);
  });
});
