// Observability: Prometheus metrics after a run, and traces exported over
// OTLP/HTTP to a collector (a small local server speaking the OTLP JSON API).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHandle, api, type OrchestratorHandle, startAgent, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code: number; message?: string };
}

let collector: Server;
const spans: OtlpSpan[] = [];
let orch: OrchestratorHandle;
let agent: AgentHandle;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  orch = await startOrchestrator({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'orrery-test' } });
  agent = startAgent({ server: orch.aipUrl, name: 'traced' });
});

afterAll(async () => {
  await agent?.kill('SIGKILL');
  await orch?.kill('SIGKILL');
  await new Promise<void>((r) => collector.close(() => r()));
});

const attr = (s: OtlpSpan, key: string): unknown => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
};

describe('observability', () => {
  it('exports one trace per constellation with a span per task attempt', async () => {
    const c = await api<{ id: string }>(orch.url, 'POST', '/v1/constellations', {
      name: 'traced-graph',
      tasks: { ok: { run: 'echo fine' }, bad: { needs: { ok: 'success' }, run: 'exit 4' } },
    });
    const root = await waitFor(() => spans.find((s) => s.name === 'constellation traced-graph'), 'the root span', 30_000);
    expect(attr(root, 'orrery.constellation.id')).toBe(c.id);
    expect(attr(root, 'orrery.constellation.status')).toBe('failed');
    const tasks = spans.filter((s) => s.traceId === root.traceId && s.name.startsWith('task '));
    expect(tasks.map((s) => s.name).sort()).toEqual(['task bad', 'task ok']);
    for (const t of tasks) expect(t.parentSpanId).toBe(root.spanId);
    const bad = tasks.find((s) => s.name === 'task bad') as OtlpSpan;
    expect(bad.status.code).toBe(2);
    expect(attr(bad, 'process.exit.code')).toBe('4');
    expect(attr(bad, 'orrery.device.id')).toBe('dev-traced');
  });

  it('serves Prometheus metrics that reflect the run', async () => {
    const text = await api<string>(orch.url, 'GET', '/metrics');
    const value = (line: string): number => Number(text.split('\n').find((l) => l.startsWith(line))?.split(' ').at(-1));
    expect(value('orrery_dispatch_latency_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(value('orrery_journal_commit_seconds_count')).toBeGreaterThan(0);
    expect(value('orrery_tasks_dispatched_total')).toBeGreaterThanOrEqual(2);
    expect(value('orrery_tasks{state="succeeded"}')).toBe(1);
    expect(value('orrery_tasks{state="failed"}')).toBe(1);
    expect(value('orrery_devices{state="online"}')).toBe(1);
  });
});
