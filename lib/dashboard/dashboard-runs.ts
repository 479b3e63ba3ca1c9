import { RunEvent } from '../events/run-event.interface';

/** Filters and page of `GET <path>/api/runs`. */
export interface DashboardRunsQuery {
  taskId?: string | undefined;
  /** Inclusive bounds on the event timestamp, epoch ms. */
  from?: number | undefined;
  to?: number | undefined;
  /** `accepted`, `rejected`, or `pending` (outcome not judged yet). */
  outcome?: 'accepted' | 'rejected' | 'pending' | undefined;
  /** `with` or `without` violations. */
  violations?: 'with' | 'without' | undefined;
  /** 1-based. */
  page: number;
  pageSize: number;
}

/** One row of the runs table. */
export interface DashboardRunRow {
  eventId: string;
  taskId: string;
  timestamp: number;
  intent: string;
  outcome: 'accepted' | 'rejected' | 'pending';
  violations: number;
  testsRan: boolean;
  testsFailed: number;
  reworkLines: number;
  durationMs: number;
}

/** `GET <path>/api/runs`: a page of runs, most recently stored first. */
export interface DashboardRunsPage {
  total: number;
  page: number;
  pageSize: number;
  pages: number;
  runs: DashboardRunRow[];
}

/** A run as a table row. */
export function runRow(event: RunEvent): DashboardRunRow {
  return {
    eventId: event.eventId,
    taskId: event.taskId,
    timestamp: event.timestamp,
    intent: event.intent,
    outcome: outcomeOf(event),
    violations: event.violations.length,
    testsRan: event.testResults.ran,
    testsFailed: event.testResults.failed,
    reworkLines: event.reworkLines,
    durationMs: event.durationMs,
  };
}

function outcomeOf(event: RunEvent): DashboardRunRow['outcome'] {
  return event.outcomeAccepted === true ? 'accepted' : event.outcomeAccepted === false ? 'rejected' : 'pending';
}

/** Whether a run passes the filters. */
export function matchesRunFilters(event: RunEvent, query: Omit<DashboardRunsQuery, 'page' | 'pageSize'>): boolean {
  if (query.taskId !== undefined && event.taskId !== query.taskId) return false;
  if (query.from !== undefined && event.timestamp < query.from) return false;
  if (query.to !== undefined && event.timestamp > query.to) return false;
  if (query.outcome !== undefined && outcomeOf(event) !== query.outcome) return false;
  if (query.violations === 'with' && event.violations.length === 0) return false;
  if (query.violations === 'without' && event.violations.length > 0) return false;
  return true;
}

/**
 * One page of the runs that pass the filters, most recently stored first. One pass over memory
 * from its end: the page's rows are taken as they come, the rest only counted.
 */
export function queryRuns(events: readonly RunEvent[], query: DashboardRunsQuery): DashboardRunsPage {
  const skip = (query.page - 1) * query.pageSize;
  const runs: DashboardRunRow[] = [];
  let total = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (!matchesRunFilters(event, query)) continue;
    if (total >= skip && runs.length < query.pageSize) runs.push(runRow(event));
    total++;
  }
  return { total, page: query.page, pageSize: query.pageSize, pages: Math.max(1, Math.ceil(total / query.pageSize)), runs };
}
