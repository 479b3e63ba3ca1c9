import { CanActivate, Type } from '@nestjs/common';

/** Options of {@link LedgerDashboardModule.forRoot} (or what the factory of `forRootAsync` returns). */
export interface LedgerDashboardOptions {
  /** Where the page is served; its JSON endpoints are under `<path>/api`. @default '/ledger' */
  path?: string | undefined;
  /**
   * Nest guards (classes or instances) that every request to the page and its endpoints must pass,
   * in order. A class is instantiated in the dashboard module (with `forRootAsync`, its `imports` can
   * provide what it injects). The page sends its own query string with every request it makes.
   */
  guards?: (Type<CanActivate> | CanActivate)[] | undefined;
  /** Rows per page of the runs table (the `pageSize` query parameter may ask for up to 500). @default 50 */
  pageSize?: number | undefined;
}

/** The options with their defaults, as the controller and the guards read them. */
export interface ResolvedDashboardOptions {
  path: string;
  pageSize: number;
  guards: (Type<CanActivate> | CanActivate)[];
}

/** Injection token of the {@link ResolvedDashboardOptions}. */
export const DASHBOARD_RESOLVED_OPTIONS = Symbol('LEDGER_DASHBOARD_RESOLVED_OPTIONS');

export function resolveDashboardOptions(options: LedgerDashboardOptions = {}): ResolvedDashboardOptions {
  return { path: options.path ?? '/ledger', pageSize: options.pageSize ?? 50, guards: options.guards ?? [] };
}
