// Planning from a sentence: templates with no endpoint, and an
// OpenAI-compatible endpoint (a small local server speaking the same API,
// the only mock: the LLM is the edge of the world).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseGraph } from '../src/graph/index.js';
import { OrreryError } from '../src/errors.js';
import { LlmPlanner, TemplatePlanner } from '../src/planner/index.js';
import { api, type OrchestratorHandle, startOrchestrator } from '../../scripts/testing/stack.js';

interface Seen {
  auth?: string;
  body: { model: string; messages: Array<{ role: string; content: string }> };
}

let llm: Server;
let llmUrl: string;
const seen: Seen[] = [];
let answers: string[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  llm = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    seen.push({ auth: req.headers.authorization, body: JSON.parse(await readBody(req)) });
    const content = answers.shift() ?? '{}';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
  });
  await new Promise<void>((r) => llm.listen(0, '127.0.0.1', r));
  llmUrl = `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => llm.close(() => r())));

const validate = (doc: unknown): void => {
  try {
    normaliseGraph(doc);
  } catch (err) {
    const e = err as { issues?: Array<{ code: string; message: string }>; message: string };
    throw new OrreryError('GRAPH_INVALID', e.message, { issues: e.issues ?? [] });
  }
};

describe('template planner (no endpoint)', () => {
  it('turns stages and parallel steps into a valid graph', async () => {
    const { graph, source } = await new TemplatePlanner().plan('build the app, then test on android and test on linux, then publish');
    expect(source).toBe('template');
    const spec = normaliseGraph(graph);
    const ids = spec.tasks.map((t) => t.id);
    expect(ids).toEqual(['build-the-app', 'test-on-android', 'test-on-linux', 'publish']);
    const edges = spec.dependencies.map((d) => `${d.from}->${d.to}`).sort();
    expect(edges).toEqual(['build-the-app->test-on-android', 'build-the-app->test-on-linux', 'test-on-android->publish', 'test-on-linux->publish']);
  });
});

describe('LLM planner', () => {
  it('sends the request to the endpoint and repairs an invalid answer once', async () => {
    answers = [
      '```json\n{"name":"bad","tasks":{"a":{"run":"true","needs":["missing"]}}}\n```',
      '{"name":"good","tasks":{"fetch":{"run":"echo data","outputs":{"d":"stdout"}},"use":{"needs":["fetch"],"run":"echo ${{ tasks.fetch.outputs.d }}"}}}',
    ];
    seen.length = 0;
    const planner = new LlmPlanner({ baseUrl: llmUrl, model: 'test-model', apiKey: 'sk-test', validate, describeDevices: () => '- laptop' });
    const { graph, source } = await planner.plan('fetch some data and use it');
    expect(source).toBe('llm');
    expect((graph as { name: string }).name).toBe('good');
    expect(seen).toHaveLength(2);
    expect(seen[0]?.auth).toBe('Bearer sk-test');
    expect(seen[0]?.body.model).toBe('test-model');
    expect(seen[1]?.body.messages.at(-1)?.content).toMatch(/invalid/);
  });

  it('gives a clear error when the endpoint is down', async () => {
    const planner = new LlmPlanner({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', validate, describeDevices: () => '', timeoutMs: 2000 });
    await expect(planner.plan('anything')).rejects.toMatchObject({ code: 'PLANNER_UNREACHABLE' });
  });
});

describe('planning through the orchestrator', () => {
  let orch: OrchestratorHandle;
  afterAll(async () => {
    await orch?.kill('SIGKILL');
  });

  it('POST /v1/plan uses the configured endpoint', async () => {
    orch = await startOrchestrator({ env: { ORRERY_LLM_BASE_URL: llmUrl, ORRERY_LLM_MODEL: 'served-model' } });
    answers = ['{"name":"planned","tasks":{"hello":{"run":"echo hi"}}}'];
    seen.length = 0;
    const out = await api<{ graph: { name: string }; source: string }>(orch.url, 'POST', '/v1/plan', { prompt: 'say hi' });
    expect(out.source).toBe('llm');
    expect(out.graph.name).toBe('planned');
    expect(seen[0]?.body.model).toBe('served-model');
  });
});
