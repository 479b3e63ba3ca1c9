/**
 * OpenTelemetry metrics, read with the SDK's own reader: the numbers match what happened
 * (events written, batches, a failed write by cause, backlog, corrupt lines, compaction, feed delay).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metrics } from '@opentelemetry/api';
import { DataPoint, Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { LEDGER_METRICS, PostgresEventStore, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { waitUntil } from '../helpers/wait';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new TestReader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

/** The data points of one instrument, for the store at `location`. */
async function points(name: string, location: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).filter((p) => p.attributes['ledger.store'] === location) as DataPoint<unknown>[];
}
const sum = async (name: string, location: string) => (await points(name, location)).reduce((n, p) => n + (p.value as number), 0);

describe('OpenTelemetry metrics', () => {
  afterAll(removeTempDirs);

  it('NDJSON: events, batches, a failed write by cause, backlog, corrupt lines and compaction are what happened', async () => {
    const root = makeTempDir();
    const storagePath = join(root, 'store');
    const ledger = createPersistentLedger({
      storagePath,
      compactIntervalMs: 0,
      autoFlush: false,
      maxEvents: 120,
      highWaterMark: 0,
      logger: new CapturingLogger(),
    });
    await ledger.init();
    for (let i = 0; i < 100; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    await ledger.flush();
    for (let i = 0; i < 150; i++) ledger.logEvent(runEventInput({ timestamp: 100 + i }));
    await ledger.flush();

    expect(await sum(LEDGER_METRICS.eventsAppended.name, storagePath)).toBe(250);
    const [batches] = (await points(LEDGER_METRICS.batchSize.name, storagePath)) as DataPoint<Histogram>[];
    expect(batches.value).toMatchObject({ count: 2, sum: 250, min: 100, max: 150 });
    const [durations] = (await points(LEDGER_METRICS.writeDuration.name, storagePath)) as DataPoint<Histogram>[];
    expect(durations.value.count).toBe(2);
    expect(durations.value.sum).toBeGreaterThan(0);

    // A write that fails for real: the directory replaced by a file.
    renameSync(storagePath, join(root, 'moved'));
    writeFileSync(storagePath, 'not a directory');
    ledger.logEvent(runEventInput({ timestamp: 1_000 }));
    const error = await ledger.flush().then(
      () => ({ code: 'none' }),
      (e: { code: string }) => e,
    );
    const failures = await points(LEDGER_METRICS.writeFailures.name, storagePath);
    expect(failures).toEqual([expect.objectContaining({ value: 1, attributes: expect.objectContaining({ 'error.type': error.code }) })]);
    expect(await sum(LEDGER_METRICS.backlog.name, storagePath)).toBe(1);

    await ledger.destroy().catch(() => undefined);
  });

  it('NDJSON: corrupt lines and a compaction', async () => {
    const storagePath = makeTempDir();
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ ...runEventInput({ timestamp: i }), eventId: `e${i}` }));
    writeFileSync(join(storagePath, 'events.ndjson'), [...lines.slice(0, 150), '{torn', ...lines.slice(150)].join('\n') + '\n');
    const ledger = createPersistentLedger({ storagePath, compactIntervalMs: 0, maxEvents: 100, highWaterMark: 0, logger: new CapturingLogger() });
    await ledger.init();
    expect(await sum(LEDGER_METRICS.corruptLines.name, storagePath)).toBe(1);
    expect(await ledger.compact()).toBe(200);
    expect(await sum(LEDGER_METRICS.compactionRuns.name, storagePath)).toBe(1);
    expect(await sum(LEDGER_METRICS.compactionEvicted.name, storagePath)).toBe(200);
    const [duration] = (await points(LEDGER_METRICS.compactionDuration.name, storagePath)) as DataPoint<Histogram>[];
    expect(duration.value.count).toBe(1);
    await ledger.close();
  });

  describe('PostgreSQL', () => {
    const server = usePostgres();

    it("the feed delay: one record per live page another replica's commit reaches", async () => {
      const schema = uniqueSchema('metrics');
      const store = () => new PostgresEventStore({ connectionString: server().connectionString, schema, logger: new CapturingLogger() });
      const writer = createPersistentLedger({ store: store(), compactIntervalMs: 0, logger: new CapturingLogger() });
      const followerStore = store();
      const follower = createPersistentLedger({ store: followerStore, compactIntervalMs: 0, logger: new CapturingLogger() });
      await writer.init();
      await follower.init();
      const location = `"${schema}"."ledger_events"`;
      for (let i = 0; i < 5; i++) {
        writer.logEvent(runEventInput({ timestamp: i }));
        await writer.flush();
        await waitUntil(() => follower.eventCount >= i + 1, 10_000, `the follower holding ${i + 1} events`);
      }
      expect(follower.eventCount).toBe(5);
      const delays = (await points(LEDGER_METRICS.feedDelay.name, location)) as DataPoint<Histogram>[];
      const recorded = delays.reduce((n, p) => n + p.value.count, 0);
      // Both ledgers follow the feed; each commit is a live page for the follower at least.
      expect(recorded).toBeGreaterThanOrEqual(5);
      expect(Math.max(...delays.map((p) => p.value.max ?? 0))).toBeLessThan(5);
      expect(await sum(LEDGER_METRICS.eventsAppended.name, location)).toBe(5);
      await follower.close();
      await writer.close();
    });
  });
});
