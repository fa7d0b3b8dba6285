// Notifications the engine publishes for live views (SSE, CLI --follow).
import type { ArtifactRecord, Attempt, ConstellationStatus, TaskStatus } from '../model/types.js';

export interface ConstellationSummary {
  id: string;
  name: string;
  status: ConstellationStatus;
  revision: number;
  owner: string;
  createdAt: number;
  updatedAt: number;
  counts: Partial<Record<TaskStatus, number>>;
}

export interface DeviceView {
  id: string;
  name: string;
  status: 'online' | 'draining' | 'lost' | 'offline';
  labels: string[];
  os: string;
  arch: string;
  features: string[];
  slots: number;
  running: number;
  lastHeartbeatAt: number | null;
  connectedAt: number | null;
  /** The capabilities the agent reported (os, arch, cpus, memoryMb, gpus, executors, hostname, ...). */
  capabilities?: Record<string, unknown>;
  /** Attempts placed on this device now. */
  runningTasks?: Array<{ constellationId: string; taskId: string; attempt: number }>;
  transport?: string;
  load?: { batteryPercent: number; thermalCelsius: number; loadAvg: number };
}

export interface ProposalEventData {
  constellationId: string;
  id: string;
  status: 'pending' | 'applied' | 'rejected' | 'stale' | 'failed';
  comment: string;
}

export type LiveEvent =
  | { type: 'constellation'; data: ConstellationSummary }
  | {
      type: 'task';
      data: {
        constellationId: string;
        taskId: string;
        status: TaskStatus;
        attempts: Attempt[];
        outputs: Record<string, string>;
        /** Stored artifacts of the attempt that succeeded. */
        artifacts?: Record<string, ArtifactRecord>;
        waitingReason?: string;
        progress?: { fraction: number; message: string };
      };
    }
  | { type: 'device'; data: DeviceView }
  | {
      type: 'log';
      data: { constellationId: string; taskId: string; attempt: number; stream: 'stdout' | 'stderr' | 'system'; text: string };
    }
  | { type: 'edit'; data: { constellationId: string; revision: number } }
  /** A replan proposal was created or decided (docs/planner.md). */
  | { type: 'proposal'; data: ProposalEventData };

export type LiveListener = (event: LiveEvent) => void;

/** Fan-out of live events to subscribers; a slow subscriber never blocks the engine. */
export class LiveHub {
  private readonly listeners = new Set<LiveListener>();

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener must not stop the engine or the others.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
