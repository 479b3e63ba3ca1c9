import { DynamicModule, Module } from '@nestjs/common';
import { createDashboardController } from './ledger-dashboard.controller';
import { LedgerDashboardOptions } from './ledger-dashboard-options.interface';
import { LedgerDashboardService } from './ledger-dashboard.service';

/**
 * An optional dashboard of the ledger: one self-contained page (its script and styles ship in
 * the package) with headline metrics for a time window, charts over time, the violation ranking,
 * the runs with filters, paging and each run's evaluator verdicts, updated live from `events$`;
 * and the JSON endpoints it reads, usable without the page. Import it beside `LedgerModule`:
 *
 * `LedgerDashboardModule.forRoot({ path: '/ledger', guards: [AdminGuard] })`
 *
 * Nothing is served unless it is imported. Protect it with `guards` (Nest guards, classes or
 * instances): they run on the page and on every endpoint.
 */
@Module({})
export class LedgerDashboardModule {
  static forRoot(options: LedgerDashboardOptions = {}): DynamicModule {
    const path = options.path ?? '/ledger';
    const pageSize = options.pageSize ?? 50;
    return {
      module: LedgerDashboardModule,
      controllers: [createDashboardController({ ...options, path, pageSize })],
      providers: [LedgerDashboardService],
    };
  }
}
