import { CanActivate, ExecutionContext, Inject, Injectable, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Observable, lastValueFrom } from 'rxjs';
import { DASHBOARD_RESOLVED_OPTIONS, ResolvedDashboardOptions } from './ledger-dashboard-options.interface';

/**
 * The one guard on the dashboard's controller: runs the options' guards in order, each request.
 * They are read from the resolved options rather than set with `@UseGuards` at definition time, so
 * that `forRootAsync` can supply them; a guard class is instantiated once, in the dashboard module.
 */
@Injectable()
export class LedgerDashboardGuards implements CanActivate {
  private resolved: Promise<CanActivate[]> | null = null;

  constructor(
    @Inject(DASHBOARD_RESOLVED_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    for (const guard of await this.guards()) {
      const verdict = guard.canActivate(context);
      if (!(verdict instanceof Observable ? await lastValueFrom(verdict) : await verdict)) return false;
    }
    return true;
  }

  private guards(): Promise<CanActivate[]> {
    this.resolved ??= Promise.all(
      this.options.guards.map((guard) => (typeof guard === 'function' ? this.moduleRef.create(guard as Type<CanActivate>) : guard)),
    ).catch((err: unknown) => {
      this.resolved = null;
      throw err;
    });
    return this.resolved;
  }
}
