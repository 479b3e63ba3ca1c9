import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import { LEDGER_METRICS } from './ledger-metric-names';

/** Metric attributes (the API's `Attributes`, narrowed to what the ledger sets). */
export type Attributes = Record<string, string>;

/** The attributes telling a store's metrics apart: `ledger.driver` and `ledger.store` (its location). */
export function telemetryAttributes(store: { describe(): { driver: string; location: string } }): Attributes {
  const { driver, location } = store.describe();
  return { 'ledger.driver': driver, 'ledger.store': location };
}

/** A ledger whose stats the backlog and corrupt-lines gauges report at each collection. */
export interface ObservedLedger {
  attributes: Attributes;
  /** Of its `StorageStats`, the gauges read these two. */
  getStorageStats(): Promise<{ pendingEvents: number; corruptLines: number }>;
}

interface Instruments {
  eventsAppended: Counter;
  batchSize: Histogram;
  writeDuration: Histogram;
  writeFailures: Counter;
  compactionRuns: Counter;
  compactionEvicted: Counter;
  compactionDuration: Histogram;
  feedDelay: Histogram;
}

/**
 * Records the ledger's metrics through the OpenTelemetry metrics API when
 * `@opentelemetry/api` is installed, and does nothing otherwise. The meter
 * comes from the global meter provider the first time something is recorded:
 * register your SDK (`metrics.setGlobalMeterProvider`, or the NodeSDK) before
 * the application starts.
 */
export class LedgerTelemetry {
  private instruments: Instruments | null | undefined;
  private readonly observed = new Set<ObservedLedger>();

  /** Events made durable in one write that took `seconds`. */
  written(attributes: Attributes, events: number, seconds: number): void {
    const i = this.load();
    if (!i) return;
    i.eventsAppended.add(events, attributes);
    i.batchSize.record(events, attributes);
    i.writeDuration.record(seconds, attributes);
  }

  writeFailed(attributes: Attributes, error: Error): void {
    const code = (error as { code?: unknown }).code;
    this.load()?.writeFailures.add(1, { ...attributes, 'error.type': typeof code === 'string' ? code : error.name });
  }

  compacted(attributes: Attributes, evicted: number, seconds: number): void {
    const i = this.load();
    if (!i) return;
    i.compactionRuns.add(1, attributes);
    i.compactionEvicted.add(evicted, attributes);
    i.compactionDuration.record(seconds, attributes);
  }

  feedDelay(attributes: Attributes, seconds: number): void {
    this.load()?.feedDelay.record(seconds, attributes);
  }

  /** Reports the ledger's backlog and corrupt lines at each collection, until the returned function is called. */
  observe(ledger: ObservedLedger): () => void {
    this.load();
    this.observed.add(ledger);
    return () => this.observed.delete(ledger);
  }

  private load(): Instruments | null {
    if (this.instruments !== undefined) return this.instruments;
    const api = loadOpenTelemetry();
    if (!api) return (this.instruments = null);
    const meter = api.metrics.getMeter('nestjs-ledger');
    const histogram = (spec: { name: string; unit: string; description: string }, boundaries?: number[]) =>
      meter.createHistogram(spec.name, {
        unit: spec.unit,
        description: spec.description,
        advice: boundaries ? { explicitBucketBoundaries: boundaries } : {},
      });
    const counter = (spec: { name: string; unit: string; description: string }) =>
      meter.createCounter(spec.name, { unit: spec.unit, description: spec.description });
    const seconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.instruments = {
      eventsAppended: counter(LEDGER_METRICS.eventsAppended),
      batchSize: histogram(LEDGER_METRICS.batchSize, [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]),
      writeDuration: histogram(LEDGER_METRICS.writeDuration, seconds),
      writeFailures: counter(LEDGER_METRICS.writeFailures),
      compactionRuns: counter(LEDGER_METRICS.compactionRuns),
      compactionEvicted: counter(LEDGER_METRICS.compactionEvicted),
      compactionDuration: histogram(LEDGER_METRICS.compactionDuration, seconds),
      feedDelay: histogram(LEDGER_METRICS.feedDelay, seconds),
    };
    this.observeGauges(meter);
    return this.instruments;
  }

  private observeGauges(meter: Meter): void {
    const gauge = (spec: { name: string; unit: string; description: string }): ObservableGauge =>
      meter.createObservableGauge(spec.name, { unit: spec.unit, description: spec.description });
    const backlog = gauge(LEDGER_METRICS.backlog);
    const corrupt = gauge(LEDGER_METRICS.corruptLines);
    meter.addBatchObservableCallback(
      async (result) => {
        await Promise.all(
          [...this.observed].map(async (ledger) => {
            const stats = await ledger.getStorageStats().catch(() => null);
            if (!stats) return;
            result.observe(backlog, stats.pendingEvents, ledger.attributes);
            result.observe(corrupt, stats.corruptLines, ledger.attributes);
          }),
        );
      },
      [backlog, corrupt],
    );
  }
}

/** The process's telemetry: one set of instruments whatever the number of ledgers (attributes tell them apart). */
export const ledgerTelemetry = new LedgerTelemetry();

function loadOpenTelemetry(): typeof import('@opentelemetry/api') | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  } catch {
    return null;
  }
}
