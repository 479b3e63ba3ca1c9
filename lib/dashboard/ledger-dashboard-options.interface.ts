import { CanActivate, Type } from '@nestjs/common';

/** Options of {@link LedgerDashboardModule.forRoot}. */
export interface LedgerDashboardOptions {
  /** Where the page is served; its JSON endpoints are under `<path>/api`. @default '/ledger' */
  path?: string | undefined;
  /** Nest guards (classes or instances) that every request to the page and its endpoints must pass. */
  guards?: (Type<CanActivate> | CanActivate)[] | undefined;
  /** Rows per page of the runs table (the `pageSize` query parameter may ask for up to 500). @default 50 */
  pageSize?: number | undefined;
}
