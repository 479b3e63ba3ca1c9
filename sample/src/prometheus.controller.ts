import { Controller, Get, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { prometheusExporter } from './telemetry';

/** GET /prometheus: the app's OpenTelemetry metrics (the ledger's among them) for Prometheus to scrape. */
@Controller('prometheus')
export class PrometheusController {
  @Get()
  scrape(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    prometheusExporter.getMetricsRequestHandler(request, response);
  }
}
