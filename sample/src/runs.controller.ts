import { BadRequestException, Body, Controller, Get, MessageEvent, NotFoundException, Param, Post, Query, Sse } from '@nestjs/common';
import { EvaluatorResult, PersistentLedger, RunEvent, RunEventInput } from 'nestjs-ledger';
import { Observable, map } from 'rxjs';
import { RunsPage, pageLimit, pageOfEvents } from './runs-page';

function optionalNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new BadRequestException(`Query parameter "${name}" must be a number of epoch milliseconds`);
  return n;
}

@Controller()
export class RunsController {
  constructor(private readonly ledger: PersistentLedger) {}

  /** Logs a run event and answers once it is durable (LedgerExceptionFilter: 400 for a bad event, 503 for a failed write). */
  @Post('runs')
  async logRun(@Body() body: RunEventInput): Promise<RunEvent> {
    const event = this.ledger.logEvent(body);
    await this.ledger.flush();
    return event;
  }

  /**
   * A page of the events that pass the filters, oldest first: `limit` (default 100, at most 1000)
   * and `after` (the `next` of the previous page). From memory, on both stores: it holds every
   * event of the store (on PostgreSQL, every replica's, kept current by the replica feed) and this
   * process's events not yet written (e.g. while a disk fault lasts).
   */
  @Get('runs')
  listRuns(
    @Query('taskId') taskId?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
  ): RunsPage {
    const start = optionalNumber('from', from) ?? -Infinity;
    const end = optionalNumber('to', to) ?? Infinity;
    const events = taskId ? this.ledger.getEventsByTask(taskId) : this.ledger.getEvents();
    return pageOfEvents(events, (e) => e.timestamp >= start && e.timestamp <= end, pageLimit(limit), after);
  }

  /** Server-Sent Events: every newly stored event (every replica's on PostgreSQL), as it is stored. */
  @Sse('runs/stream')
  stream(): Observable<MessageEvent> {
    return this.ledger.events$.pipe(map((event) => ({ type: 'run', id: event.eventId, data: event })));
  }

  @Get('runs/:eventId/evaluation')
  async evaluate(@Param('eventId') eventId: string): Promise<EvaluatorResult[]> {
    const event = this.ledger.getEvents().find((e) => e.eventId === eventId);
    if (!event) throw new NotFoundException(`No run event with id ${eventId}`);
    return this.ledger.evaluate(event);
  }

  @Get('metrics')
  metrics() {
    return this.ledger.computeMetrics();
  }

  @Get('violations')
  violations() {
    return this.ledger.rankViolations();
  }

  @Get('stats')
  stats() {
    return this.ledger.getStorageStats();
  }
}
