import { ConfigurableModuleBuilder } from '@nestjs/common';
import { LedgerDashboardOptions } from './ledger-dashboard-options.interface';

export const {
  ConfigurableModuleClass: ConfigurableDashboardModule,
  MODULE_OPTIONS_TOKEN: DASHBOARD_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LedgerDashboardOptions>({ moduleName: 'LedgerDashboard' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLedgerDashboardOptions')
  .build();

/** Options of {@link LedgerDashboardModule.forRootAsync}: `imports`, `inject` and `useFactory`, `useClass` or `useExisting`. */
export type LedgerDashboardAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
