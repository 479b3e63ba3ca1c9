import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { configureApp } from './configure-app';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  configureApp(app);
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const { port: actualPort } = app.getHttpServer().address() as { port: number };
  new Logger('Sample').log(
    `Ledger sample listening on http://localhost:${actualPort} (POST /runs, GET /runs, /metrics, /violations, /stats, /health, /prometheus; dashboard at /ledger)`,
  );
}

void bootstrap();
