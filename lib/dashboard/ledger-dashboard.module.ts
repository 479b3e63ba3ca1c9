import { Controller, DynamicModule, Module, Provider } from '@nestjs/common';
import { createDashboardController } from './ledger-dashboard.controller';
import { LedgerDashboardGuards } from './ledger-dashboard.guards';
import { ASYNC_OPTIONS_TYPE, ConfigurableDashboardModule, DASHBOARD_OPTIONS, OPTIONS_TYPE } from './ledger-dashboard.module-definition';
import { DASHBOARD_RESOLVED_OPTIONS, LedgerDashboardOptions, resolveDashboardOptions } from './ledger-dashboard-options.interface';
import { LedgerDashboardService } from './ledger-dashboard.service';

/**
 * An optional dashboard of the ledger: one self-contained page (its script and styles ship in
 * the package) with headline metrics for a time window, charts over time, the violation ranking,
 * the runs with filters, paging and each run's evaluator verdicts, updated live from `events$`;
 * and the JSON endpoints it reads, usable without the page. Import it beside `LedgerModule`:
 *
 * `LedgerDashboardModule.forRoot({ path: '/ledger', guards: [AdminGuard] })`, or
 * `LedgerDashboardModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`
 * when the options come from other providers (`ConfigService`, ...).
 *
 * Nothing is served unless it is imported. Protect it with `guards` (Nest guards, classes or
 * instances): they run on the page and on every endpoint.
 */
@Module({})
export class LedgerDashboardModule extends ConfigurableDashboardModule {
  static forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withDashboard(super.forRoot(options), resolveDashboardOptions(options).path);
  }

  /**
   * Options from a factory (or class) with injected providers, the `path` included: the route is
   * set when the options are resolved, which Nest does before it registers any route.
   */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withDashboard(super.forRootAsync(options), resolveDashboardOptions().path);
  }
}

/** Adds a controller of its own (a route is a class's metadata), the guards runner and the service. */
function withDashboard(definition: DynamicModule, initialPath: string): DynamicModule {
  const controller = createDashboardController(initialPath);
  const resolvedOptions: Provider = {
    provide: DASHBOARD_RESOLVED_OPTIONS,
    inject: [DASHBOARD_OPTIONS],
    useFactory: (options: LedgerDashboardOptions) => {
      const resolved = resolveDashboardOptions(options);
      // Decorating again sets the route; Nest reads it when it registers routes, after every provider resolved.
      Controller(resolved.path)(controller);
      return resolved;
    },
  };
  return {
    ...definition,
    controllers: [controller],
    providers: [...(definition.providers ?? []), resolvedOptions, LedgerDashboardGuards, LedgerDashboardService],
  };
}
