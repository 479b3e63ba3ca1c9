import { BadRequestException, Body, Controller, Get, NotFoundException, Param, Post, Query, ServiceUnavailableException } from '@nestjs/common';
import { EvaluatorResult, EventStore, PersistentLedger, RunEvent } from 'nestjs-ledger';

function optionalNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new BadRequestException(`Query parameter "${name}" must be a number of epoch milliseconds`);
  return n;
}

@Controller()
export class RunsController {
  constructor(
    private readonly ledger: PersistentLedger,
    private readonly store: EventStore,
  ) {}

  /** Logs a run event and answers once it is on disk. */
  @Post('runs')
  async logRun(@Body() body: unknown): Promise<RunEvent> {
    const event = this.ledger.logEvent(body);
    try {
      await this.ledger.flush();
    } catch (err) {
      throw new ServiceUnavailableException(`Event ${event.eventId} is kept in memory but not yet on disk: ${(err as Error).message}`);
    }
    return event;
  }

  /**
   * From memory, which holds every event of a single-writer store (even while a
   * disk fault keeps some from being written); from the store when replicas
   * share it, so that every replica answers with every replica's events.
   */
  @Get('runs')
  async listRuns(@Query('taskId') taskId?: string, @Query('from') from?: string, @Query('to') to?: string): Promise<RunEvent[]> {
    const start = optionalNumber('from', from) ?? -Infinity;
    const end = optionalNumber('to', to) ?? Infinity;
    if (!this.store.sharedByReplicas) {
      const events = taskId ? this.ledger.getEventsByTask(taskId) : this.ledger.getEvents();
      return events.filter((e) => e.timestamp >= start && e.timestamp <= end);
    }
    const events: RunEvent[] = [];
    for await (const event of this.store.stream({ taskId: taskId || undefined, from: start, to: end })) events.push(event);
    return events;
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
