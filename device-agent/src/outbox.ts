// Durable outbox: messages the orchestrator must receive even if this agent
// crashes or loses its connection (Results, final SYSTEM log lines). One file
// per message, written atomically; removed when the orchestrator acks it.
// On start the agent re-sends whatever is still here.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Body } from '@orrery/protocol/client';
import { AgentError } from './errors.js';
import {
  ensureDir,
  fileNameForKey,
  isTempFile,
  parseWithBytes,
  removeFileDurable,
  stringifyWithBytes,
  writeFileDurable,
} from './durable-file.js';

export interface OutboxItem {
  key: string;
  body: Body;
  createdAtMs: number;
  /** Tie-breaker within one millisecond, so pending() keeps put() order. */
  order: number;
}

interface StoredItem extends OutboxItem {
  file: string;
}

export class Outbox {
  private readonly items = new Map<string, StoredItem>();
  private nextOrder = 0;

  /** Opens (or creates) the outbox in `dir`, loading what a previous run left. */
  constructor(readonly dir: string) {
    try {
      ensureDir(dir);
      this.load();
    } catch (err) {
      throw new AgentError('AGENT_OUTBOX_IO', `cannot open outbox at ${dir}: ${String(err)}`, { cause: err });
    }
  }

  private load(): void {
    for (const name of readdirSync(this.dir)) {
      const file = path.join(this.dir, name);
      if (isTempFile(name)) {
        // A write interrupted before its rename: the message was never put.
        rmSync(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const item = parseWithBytes(readFileSync(file, 'utf8')) as OutboxItem;
        if (typeof item.key !== 'string' || item.body === undefined) continue;
        this.items.set(item.key, { ...item, file });
        this.nextOrder = Math.max(this.nextOrder, item.order + 1);
      } catch {
        // Renames are atomic, so an unparsable file was not written by us; leave it for a human.
      }
    }
  }

  /** Durably stores `body` under `key` (replacing any previous body with that key). */
  put(key: string, body: Body): void {
    const prev = this.items.get(key);
    const item: StoredItem = {
      key,
      body,
      createdAtMs: prev?.createdAtMs ?? Date.now(),
      order: prev?.order ?? this.nextOrder++,
      file: path.join(this.dir, fileNameForKey(key)),
    };
    const { file: _file, ...stored } = item;
    try {
      writeFileDurable(item.file, stringifyWithBytes(stored));
    } catch (err) {
      throw new AgentError('AGENT_OUTBOX_IO', `outbox put ${key}: ${String(err)}`, { cause: err });
    }
    this.items.set(key, item);
  }

  /** Durably forgets `key`; true when it was there. */
  remove(key: string): boolean {
    const item = this.items.get(key);
    if (!item) return false;
    try {
      removeFileDurable(item.file);
    } catch (err) {
      throw new AgentError('AGENT_OUTBOX_IO', `outbox remove ${key}: ${String(err)}`, { cause: err });
    }
    this.items.delete(key);
    return true;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  get(key: string): Body | undefined {
    return this.items.get(key)?.body;
  }

  get size(): number {
    return this.items.size;
  }

  /** Items not yet acknowledged, oldest first. */
  pending(): OutboxItem[] {
    return [...this.items.values()]
      .sort((a, b) => a.order - b.order)
      .map(({ key, body, createdAtMs, order }) => ({ key, body, createdAtMs, order }));
  }
}
