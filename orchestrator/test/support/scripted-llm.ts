// A small local HTTP server speaking the OpenAI chat-completions API with
// scripted answers: the only stand-in in the planner tests (the LLM is the
// edge of the world). Each request takes the next scripted step.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step =
  | string
  | { status: number; body?: string; headers?: Record<string, string> }
  | { hang: true }
  | { refuseJsonMode: true };

export interface SeenRequest {
  at: number;
  auth?: string;
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    response_format?: { type: string };
  };
}

export interface ScriptedLlm {
  url: string;
  seen: SeenRequest[];
  script(steps: Step[]): void;
  /** Steps not used yet. */
  remaining(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const completion = (content: string): string =>
  JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model: 'scripted',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });

export async function startScriptedLlm(): Promise<ScriptedLlm> {
  let steps: Step[] = [];
  const seen: SeenRequest[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await readBody(req)) as SeenRequest['body'];
    seen.push({ at: Date.now(), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body });
    const step = steps.shift() ?? { status: 500, body: 'script exhausted' };
    if (typeof step === 'string') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion(step));
    } else if ('hang' in step) {
      hanging.add(res);
    } else if ('refuseJsonMode' in step) {
      // Like older servers: a bare 400 (the test checks the next request comes without the field).
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid request' } }));
    } else {
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers }).end(step.body ?? '');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen,
    script(s) {
      steps = [...s];
      seen.length = 0;
    },
    remaining: () => steps.length,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
