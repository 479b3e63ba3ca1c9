import { Injectable, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Observable } from 'rxjs';
import { RunEvent } from '../events/run-event.interface';
import { EvaluatorResult } from '../ledger/evaluators/evaluator.interface';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { DashboardAggregates, DashboardSummary } from './dashboard-aggregates';

/**
 * What the dashboard reads, through the ledger's public API: the app's `PersistentLedger` (found
 * wherever `LedgerModule` was imported) and the incremental aggregates kept beside it.
 */
@Injectable()
export class LedgerDashboardService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private ledger!: PersistentLedger;
  private aggregates!: DashboardAggregates;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Finds the app's ledger (loaded by now) and starts following its stored events. */
  onModuleInit(): void {
    this.ledger = this.moduleRef.get(PersistentLedger, { strict: false });
    this.aggregates = new DashboardAggregates(this.ledger);
  }

  /** Sums what memory holds (O(events), once), so that the first view is served from the sums. */
  onApplicationBootstrap(): void {
    this.aggregates.summary(null, null);
  }

  summary(from: number | null, to: number | null): DashboardSummary {
    return this.aggregates.summary(from, to);
  }

  events(): RunEvent[] {
    return this.ledger.getEvents();
  }

  find(eventId: string): RunEvent | undefined {
    const events = this.ledger.getEvents();
    for (let i = events.length - 1; i >= 0; i--) if (events[i].eventId === eventId) return events[i];
    return undefined;
  }

  evaluate(event: RunEvent): Promise<EvaluatorResult[]> {
    return this.ledger.evaluate(event);
  }

  get stored$(): Observable<RunEvent> {
    return this.ledger.events$;
  }

  onModuleDestroy(): void {
    this.aggregates.close();
  }
}
