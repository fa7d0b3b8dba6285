// Turns committed journal events into spans: one trace per constellation
// (the root span lasts from submit to its end), one child span per task
// attempt from assignment to its outcome. Built from the journal, so the
// engine's hot path does no tracing work of its own.
import { createHash, randomBytes } from 'node:crypto';
import type { NewEvent } from '../store/index.js';
import type { OtlpExporter, SpanData } from './otlp-exporter.js';

interface Open {
  span: SpanData;
}

/** The trace id of a constellation: stable, so logs and other tools can link to it. */
export function traceIdFor(constellationId: string): string {
  return createHash('sha256').update(`orrery:${constellationId}`).digest('hex').slice(0, 32);
}

const spanId = (): string => randomBytes(8).toString('hex');

export class TaskTracer {
  private readonly roots = new Map<string, Open>();
  private readonly attempts = new Map<string, Open>();

  constructor(
    private readonly exporter: OtlpExporter,
    private readonly statusOf: (constellationId: string) => string | undefined,
  ) {}

  observe(events: readonly NewEvent[]): void {
    const touched = new Set<string>();
    for (const e of events) {
      const d = e.data as Record<string, unknown> & { id: string; taskId?: string; attempt?: number };
      switch (e.type) {
        case 'constellation.submitted': {
          const spec = d.spec as { name: string; tasks: unknown[] };
          this.roots.set(d.id, {
            span: {
              traceId: traceIdFor(d.id),
              spanId: spanId(),
              name: `constellation ${spec.name}`,
              kind: 1,
              startMs: e.at,
              endMs: e.at,
              attributes: { 'orrery.constellation.id': d.id, 'orrery.constellation.tasks': spec.tasks.length },
            },
          });
          break;
        }
        case 'task.assigned': {
          const root = this.roots.get(d.id);
          this.attempts.set(`${d.id}/${d.taskId}`, {
            span: {
              traceId: traceIdFor(d.id),
              spanId: spanId(),
              ...(root ? { parentSpanId: root.span.spanId } : {}),
              name: `task ${d.taskId}`,
              kind: 3,
              startMs: e.at,
              endMs: e.at,
              attributes: {
                'orrery.constellation.id': d.id,
                'orrery.task.id': d.taskId as string,
                'orrery.attempt': d.attempt as number,
                'orrery.device.id': d.deviceId as string,
              },
            },
          });
          break;
        }
        case 'task.finished':
        case 'task.lost':
        case 'task.rejected': {
          const key = `${d.id}/${d.taskId}`;
          const open = this.attempts.get(key);
          if (!open || open.span.attributes['orrery.attempt'] !== d.attempt) break;
          this.attempts.delete(key);
          const outcome = e.type === 'task.finished' ? (d.outcome as string) : e.type === 'task.lost' ? 'lost' : 'rejected';
          open.span.endMs = e.at;
          open.span.attributes['orrery.outcome'] = outcome;
          if (typeof d.exitCode === 'number') open.span.attributes['process.exit.code'] = d.exitCode;
          if (outcome !== 'succeeded') open.span.error = (d.error as string | undefined) ?? (d.reason as string | undefined) ?? outcome;
          this.exporter.export(open.span);
          break;
        }
      }
      touched.add(d.id);
    }
    for (const id of touched) {
      const root = this.roots.get(id);
      const status = this.statusOf(id);
      if (!root || !status || !['succeeded', 'failed', 'cancelled'].includes(status)) continue;
      this.roots.delete(id);
      root.span.endMs = events.at(-1)?.at ?? root.span.startMs;
      root.span.attributes['orrery.constellation.status'] = status;
      if (status === 'failed') root.span.error = 'constellation failed';
      this.exporter.export(root.span);
    }
  }
}
