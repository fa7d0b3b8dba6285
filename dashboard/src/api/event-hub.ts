// One EventSource for the whole page (GET /v1/events, all constellations).
// Views subscribe to typed events; the hub owns reconnection and tells
// subscribers to refetch after a gap, since SSE events missed while
// disconnected are not replayed.

import { eventsUrl } from './client.js';
import type { ConstellationSummary, DeviceView, EditEvent, LogEvent, ProposalEvent, TaskEvent } from './types.js';

export interface EventMap {
  constellation: ConstellationSummary;
  task: TaskEvent;
  device: DeviceView;
  log: LogEvent;
  edit: EditEvent;
  proposal: ProposalEvent;
  /** Synthetic: the stream (re)opened after a gap; refetch what you show. */
  resync: undefined;
}

export type EventName = keyof EventMap;
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

type Handler<K extends EventName> = (payload: EventMap[K]) => void;

const SERVER_EVENTS: readonly Exclude<EventName, 'resync'>[] = [
  'constellation',
  'task',
  'device',
  'log',
  'edit',
  'proposal',
];
const MAX_BACKOFF_MS = 10_000;

export class EventHub {
  private source: EventSource | null = null;
  private state: ConnectionState = 'connecting';
  private everOpened = false;
  private backoffMs = 500;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly handlers = new Map<EventName, Set<(p: unknown) => void>>();
  private readonly stateListeners = new Set<() => void>();

  start(): void {
    if (this.source) return;
    this.open();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.source?.close();
    this.source = null;
  }

  /** Reopen now, e.g. after the API token changed. */
  restart(): void {
    this.stop();
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    this.open();
  }

  on<K extends EventName>(name: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    const h = handler as (p: unknown) => void;
    set.add(h);
    return () => set.delete(h);
  }

  getState(): ConnectionState {
    return this.state;
  }

  subscribeState(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private open(): void {
    const es = new EventSource(eventsUrl());
    this.source = es;
    es.onopen = () => {
      this.backoffMs = 500;
      const wasGap = this.everOpened;
      this.everOpened = true;
      this.setState('live');
      if (wasGap) this.emit('resync', undefined);
    };
    es.onerror = () => {
      if (this.source !== es) return;
      this.setState(this.everOpened ? 'reconnecting' : 'connecting');
      // The browser retries network drops itself (readyState CONNECTING);
      // after an HTTP error it gives up (CLOSED), so retry with backoff here.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.source = null;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.open();
        }, this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      }
    };
    for (const name of SERVER_EVENTS) {
      es.addEventListener(name, (ev) => {
        const data = (ev as MessageEvent<string>).data;
        let payload: unknown;
        try {
          payload = JSON.parse(data);
        } catch {
          return; // a malformed event is dropped, the next refetch heals the view
        }
        this.emit(name, payload as EventMap[typeof name]);
      });
    }
  }

  private emit<K extends EventName>(name: K, payload: EventMap[K]): void {
    const set = this.handlers.get(name);
    if (!set) return;
    for (const h of set) {
      try {
        h(payload);
      } catch (err) {
        console.error(`orrery: ${name} handler failed`, err);
      }
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.stateListeners) l();
  }
}

export const hub = new EventHub();
