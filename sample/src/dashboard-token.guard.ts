import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';

/**
 * Protects the ledger dashboard when LEDGER_DASHBOARD_TOKEN is set: a request must carry the token
 * in the `x-dashboard-token` header or the `token` query parameter. Without the variable, open.
 * In a browser open `/ledger?token=<it>`: the page sends its query string with every request it makes.
 */
@Injectable()
export class DashboardTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const expected = process.env.LEDGER_DASHBOARD_TOKEN;
    if (!expected) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; query: Record<string, string | undefined> }>();
    return request.headers['x-dashboard-token'] === expected || request.query.token === expected;
  }
}
