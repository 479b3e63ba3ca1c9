import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { LedgerExceptionFilter } from 'nestjs-ledger';

/** What main.ts and the end-to-end test both apply to the app. */
export function configureApp(app: INestApplication): void {
  // Events may be up to the ledger's 4 MiB per-event limit; Express's default body limit is 100 kB.
  (app as NestExpressApplication).useBodyParser('json', { limit: '8mb' });
  // Invalid events answer 400 with the field, a failed write or a closing ledger 503.
  app.useGlobalFilters(new LedgerExceptionFilter());
  app.enableShutdownHooks();
}
