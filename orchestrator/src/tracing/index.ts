// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard
// OpenTelemetry variable); then every constellation becomes a trace.
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import { OtlpExporter } from './otlp-exporter.js';
import { TaskTracer } from './task-tracer.js';

export { OtlpExporter, type SpanData } from './otlp-exporter.js';
export { TaskTracer, traceIdFor } from './task-tracer.js';

export function startTracing(engine: Engine, logger: Logger, env: NodeJS.ProcessEnv = process.env): OtlpExporter | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.replace(/\/v1\/traces\/?$/, '') ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  const exporter = new OtlpExporter({ endpoint, serviceName: env.OTEL_SERVICE_NAME ?? 'orrery-orchestrator', logger });
  const tracer = new TaskTracer(exporter, (id) => engine.state.constellations.get(id)?.status);
  engine.observeCommits((events) => tracer.observe(events));
  logger.info({ endpoint }, 'exporting traces over OTLP/HTTP');
  return exporter;
}
