import { ConfigurableModuleBuilder } from '@nestjs/common';
import { LedgerModuleOptions } from '../options/ledger-options.interface';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<LedgerModuleOptions>({ moduleName: 'Ledger' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLedgerOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
