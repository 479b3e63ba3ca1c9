import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * OpenTelemetry metrics in Prometheus's text format, served by the app at GET /prometheus
 * (see MetricsController). Registered when this file is imported, before the ledger records
 * anything: the ledger takes its meter from the global provider.
 */
export const prometheusExporter = new PrometheusExporter({ preventServerStart: true });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [prometheusExporter] }));
