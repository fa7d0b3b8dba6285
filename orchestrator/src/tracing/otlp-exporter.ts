// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP (JSON
// encoding), batched. Written by hand: the OTLP JSON shape is small and the
// SDK would pull a dozen packages into the orchestrator for this one job.
import type { Logger } from 'pino';

export interface SpanData {
  traceId: string; // 32 hex
  spanId: string; // 16 hex
  parentSpanId?: string;
  name: string;
  kind: 1 | 2 | 3; // INTERNAL, SERVER, CLIENT
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  error?: string;
}

export interface OtlpExporterOptions {
  /** Base URL of the collector, e.g. http://127.0.0.1:4318 (OTEL_EXPORTER_OTLP_ENDPOINT). */
  endpoint: string;
  serviceName: string;
  headers?: Record<string, string>;
  flushEveryMs?: number;
  maxBatch?: number;
  /** Spans kept while the collector is unreachable; older ones are dropped. */
  maxQueued?: number;
  logger?: Logger;
}

const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function attr(key: string, value: string | number | boolean): { key: string; value: Record<string, unknown> } {
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (typeof value === 'number') return { key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } };
  return { key, value: { stringValue: value } };
}

export class OtlpExporter {
  private queue: SpanData[] = [];
  private readonly timer: NodeJS.Timeout;
  private inflight: Promise<void> | undefined;
  dropped = 0;

  constructor(private readonly opts: OtlpExporterOptions) {
    this.timer = setInterval(() => void this.flush(), opts.flushEveryMs ?? 1000);
    this.timer.unref();
  }

  export(span: SpanData): void {
    this.queue.push(span);
    const max = this.opts.maxQueued ?? 10_000;
    if (this.queue.length > max) {
      this.dropped += this.queue.length - max;
      this.queue.splice(0, this.queue.length - max);
    }
    if (this.queue.length >= (this.opts.maxBatch ?? 512)) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (!this.queue.length) return;
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 512);
    this.inflight = this.send(batch).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async send(batch: SpanData[]): Promise<void> {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', this.opts.serviceName)] },
          scopeSpans: [
            {
              scope: { name: 'orrery', version: '0.1.0' },
              spans: batch.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: s.kind,
                startTimeUnixNano: nanos(s.startMs),
                endTimeUnixNano: nanos(s.endMs),
                attributes: Object.entries(s.attributes).map(([k, v]) => attr(k, v)),
                status: s.error ? { code: 2, message: s.error } : { code: 1 },
              })),
            },
          ],
        },
      ],
    };
    try {
      const res = await fetch(`${this.opts.endpoint.replace(/\/+$/, '')}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.opts.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`collector answered HTTP ${res.status}`);
    } catch (err) {
      // Keep them for the next try, newest last; the cap in export() bounds memory.
      this.queue.unshift(...batch);
      this.opts.logger?.debug({ err }, 'span export failed; will retry');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
