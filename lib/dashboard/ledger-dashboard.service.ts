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

  /**
   * Newly stored events (`events$`). With `lastEventId`: first the events memory holds after it
   * (in store order), or `'reset'` when memory does not hold it; events both replayed from memory
   * and stored afterwards (written but not yet durable when replayed) are sent once.
   */
  storedAfter(lastEventId: string | undefined): Observable<RunEvent | 'reset'> {
    return new Observable<RunEvent | 'reset'>((subscriber) => {
      const replayed = new Set<string>();
      if (lastEventId !== undefined) {
        // Memory and the subscription below are read in the same turn: nothing is stored in between.
        const events = this.ledger.getEvents();
        let at = events.length - 1;
        while (at >= 0 && events[at].eventId !== lastEventId) at--;
        if (at < 0) subscriber.next('reset');
        for (let i = at + 1; at >= 0 && i < events.length; i++) {
          replayed.add(events[i].eventId);
          subscriber.next(events[i]);
        }
      }
      return this.ledger.events$.subscribe({
        next: (event) => {
          if (!replayed.delete(event.eventId)) subscriber.next(event);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
  }

  onModuleDestroy(): void {
    this.aggregates.close();
  }
}
