import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Headers,
  Inject,
  MessageEvent,
  NotFoundException,
  Param,
  Query,
  Sse,
  Type,
  UseGuards,
} from '@nestjs/common';
import { Observable, map } from 'rxjs';
import { EvaluatorResult } from '../ledger/evaluators/evaluator.interface';
import { RunEvent } from '../events/run-event.interface';
import { DashboardSummary } from './dashboard-aggregates';
import { DashboardRunsPage, DashboardRunsQuery, queryRuns, runRow } from './dashboard-runs';
import { LedgerDashboardService } from './ledger-dashboard.service';
import { LedgerDashboardGuards } from './ledger-dashboard.guards';
import { DASHBOARD_RESOLVED_OPTIONS, ResolvedDashboardOptions } from './ledger-dashboard-options.interface';

/** The page, with its styles and script inlined: one self-contained document, nothing from a CDN. */
function dashboardPage(): string {
  const asset = (name: string) => readFileSync(join(__dirname, 'assets', name), 'utf8');
  return asset('dashboard.html')
    .replace('/*STYLES*/', () => asset('dashboard.css'))
    .replace('/*SCRIPT*/', () => asset('dashboard.js'));
}

/**
 * The dashboard's controller: the page at `<path>` and its JSON endpoints under `<path>/api`. A
 * class per `forRoot`, since a controller's path is its class's metadata (`path` is where it starts;
 * the module sets the resolved one). The options' guards run through {@link LedgerDashboardGuards}.
 */
export function createDashboardController(path: string): Type<unknown> {
  const page = dashboardPage();

  @Controller(path)
  @UseGuards(LedgerDashboardGuards)
  class LedgerDashboardController {
    constructor(
      private readonly dashboard: LedgerDashboardService,
      @Inject(DASHBOARD_RESOLVED_OPTIONS) private readonly options: ResolvedDashboardOptions,
    ) {}

    @Get()
    @Header('content-type', 'text/html; charset=utf-8')
    @Header('cache-control', 'no-store')
    page(): string {
      return page;
    }

    /** Headline metrics, ranking and series for the events whose hour lies in `[from, to]` (epoch ms; either may be omitted). */
    @Get('api/summary')
    summary(@Query('from') from?: string, @Query('to') to?: string): DashboardSummary {
      return this.dashboard.summary(optionalNumber('from', from) ?? null, optionalNumber('to', to) ?? null);
    }

    /** A page of runs, most recently stored first: `taskId`, `from`, `to`, `outcome`, `violations` (with|without), `page`, `pageSize`. */
    @Get('api/runs')
    runs(@Query() query: Record<string, string | undefined>): DashboardRunsPage {
      const outcome = query.outcome;
      if (outcome !== undefined && outcome !== 'accepted' && outcome !== 'rejected' && outcome !== 'pending')
        throw new BadRequestException('"outcome" must be accepted, rejected or pending');
      const violations = query.violations;
      if (violations !== undefined && violations !== 'with' && violations !== 'without')
        throw new BadRequestException('"violations" must be with or without');
      const request: DashboardRunsQuery = {
        taskId: query.taskId,
        from: optionalNumber('from', query.from),
        to: optionalNumber('to', query.to),
        outcome,
        violations,
        page: positive('page', query.page) ?? 1,
        pageSize: Math.min(positive('pageSize', query.pageSize) ?? this.options.pageSize, 500),
      };
      return queryRuns(this.dashboard.events(), request);
    }

    /** One run: its fields and every evaluator's verdict. */
    @Get('api/runs/:eventId')
    async run(@Param('eventId') eventId: string): Promise<{ event: RunEvent; evaluation: EvaluatorResult[] }> {
      const event = this.dashboard.find(eventId);
      if (!event) throw new NotFoundException(`No run event with id ${eventId}`);
      return { event, evaluation: await this.dashboard.evaluate(event) };
    }

    /**
     * Server-Sent Events: each newly stored event as a runs-table row (`event: run`, `id:` its event
     * id). A reconnecting `EventSource` sends `Last-Event-ID`: the events stored after that one are
     * sent first; if the ledger no longer holds it (compacted, another store), `event: reset` tells
     * the page to load again.
     */
    @Sse('api/stream')
    stream(@Headers('last-event-id') lastEventId?: string): Observable<MessageEvent> {
      return this.dashboard
        .storedAfter(lastEventId || undefined)
        .pipe(map((event) => (event === 'reset' ? { type: 'reset', data: {} } : { type: 'run', id: event.eventId, data: runRow(event) })));
    }
  }

  return LedgerDashboardController;
}

function optionalNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new BadRequestException(`"${name}" must be a number of epoch milliseconds`);
  return n;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new BadRequestException(`"${name}" must be a positive integer`);
  return n;
}
