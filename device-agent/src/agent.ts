// DeviceAgent: owns one AIP session and runs what the orchestrator assigns.
// Durability rule: a Result is in the outbox before it is sent, and an
// attempt is in the journal before its process starts, so a crash at any
// point leads to exactly one Result per attempt (possibly INTERRUPTED).
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AipClient,
  ArtifactError,
  type AipClientSession,
  type Assign,
  type Body,
  type Cancel,
  type Capabilities,
  enrollDevice,
  type Heartbeat,
  type LogStream,
  type Result,
  type TaskReport,
  type TaskRef,
  type Welcome,
} from '@orrery/protocol/client';
import pino, { type Logger } from 'pino';
import type { CreateSession, DeviceAgentOptions, EnrollFn, StopOptions } from './agent-options.js';
import { AgentArtifacts } from './artifacts/agent-artifacts.js';
import { AttemptJournal, processStartTicks } from './attempt-journal.js';
import { CapabilityMonitor } from './capability-monitor.js';
import {
  CREDENTIALS_FILE,
  ENROLL_TOKEN_FILE,
  loadCredentials,
  readEnrollTokenFile,
  removeEnrollTokenFile,
  saveCredentials,
} from './credentials.js';
import { DisconnectLease } from './disconnect-lease.js';
import { ensureDir } from './durable-file.js';
import { AgentError, REJECT_CODES } from './errors.js';
import { LoadSampler } from './load.js';
import { FinishedAttempts } from './finished-attempts.js';
import { Outbox } from './outbox.js';
import { ProgressThrottle } from './progress-marker.js';
import { recoverInterrupted } from './recovery.js';
import { ExecutorRegistry } from './executors/registry.js';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_CAPTURE_BYTES, DEFAULT_MAX_FORWARD_BYTES } from './executors/shell.js';
import type { AttemptHooks, RunAs, RunningAttempt } from './executors/types.js';
import { resolveRunAs } from './safety/run-as.js';
import { scrubbedEnv } from './safety/task-env.js';
import { prepareWorkRoot } from './safety/work-root.js';
import { attemptKey, outboxKeyOf } from './task-keys.js';
import { AGENT_VERSION } from './version.js';

interface LiveAttempt {
  ref: TaskRef;
  run: RunningAttempt;
  startedAtMs: number;
  systemOffset: number;
  /** Killed because the agent stops: reported INTERRUPTED, not CANCELLED. */
  interruptedByStop: boolean;
  /** Killed because the orchestrator was out of reach too long (stopAfterDisconnectMs). */
  interruptedByLease?: string;
}

const defaultCreateSession: CreateSession = (config) => new AipClient(config);
const defaultEnroll: EnrollFn = (req) => enrollDevice(req);

export class DeviceAgent {
  private readonly logger: Logger;
  private readonly dataDir: string;
  private readonly name: string;
  private outbox!: Outbox;
  private journal!: AttemptJournal;
  private executors!: ExecutorRegistry;
  private artifacts!: AgentArtifacts;
  private session: AipClientSession | undefined;
  private caps!: Capabilities;
  private readonly live = new Map<string, LiveAttempt>();
  private finished!: FinishedAttempts;
  private readonly load = new LoadSampler();
  private monitor: CapabilityMonitor | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private fatalError: { code: string; message: string } | undefined;
  private deviceId = '';
  private readonly endListeners: Array<(why: string) => void> = [];
  private readonly lease: DisconnectLease | undefined;

  constructor(private readonly opts: DeviceAgentOptions) {
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.dataDir = path.resolve(opts.dataDir);
    this.name = opts.name || os.hostname();
    const limit = opts.stopAfterDisconnectMs;
    if (limit !== undefined && limit > 0) this.lease = new DisconnectLease(limit, (ms) => this.onLeaseExpired(limit, ms));
  }

  /** Capabilities sent in Hello (after start()). */
  get capabilities(): Capabilities {
    return this.caps;
  }

  get runningCount(): number {
    return this.live.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Called once when the session ends for good (fatal error, orchestrator Goodbye). */
  onEnd(listener: (why: string) => void): void {
    this.endListeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new AgentError('AGENT_NOT_STARTED', 'an agent can be started once');
    this.state = 'starting';
    ensureDir(this.dataDir);
    this.outbox = new Outbox(path.join(this.dataDir, 'outbox'));
    this.journal = new AttemptJournal(path.join(this.dataDir, 'running'));
    const runAs = this.opts.runAs ? resolveRunAs(this.opts.runAs) : undefined;
    const workRoot = this.workRoot(runAs);
    this.executors = this.createExecutors(workRoot, runAs);
    recoverInterrupted(this.journal, this.outbox, this.logger);
    // Nothing runs yet, so leftover work dirs belong to dead attempts.
    // (A configured workDir is the user's: nothing there is removed wholesale.)
    if (!this.opts.executor?.keepWorkDirs && !this.opts.workDir) rmSync(workRoot, { recursive: true, force: true });
    if (runAs) prepareWorkRoot(workRoot);
    this.finished = new FinishedAttempts(this.outbox, this.opts.rememberFinished ?? 1024);
    this.artifacts = new AgentArtifacts(this.dataDir, this.logger.child({ component: 'artifacts' }), {
      ...this.opts.artifacts,
      ...(runAs ? { owner: { uid: runAs.uid, gid: runAs.gid } } : {}),
    });

    this.monitor = new CapabilityMonitor({
      ...this.opts.probe,
      labels: this.opts.labels ?? [],
      executors: this.executors.kinds(),
      dataDir: this.dataDir,
      logger: this.logger,
      ...(this.opts.slots !== undefined ? { slots: this.opts.slots } : {}),
      ...(this.opts.resources ? { resources: this.opts.resources } : {}),
    });
    this.caps = await this.monitor.start();
    if (this.state !== 'starting') {
      this.monitor.stop(); // stopped while probing
      return;
    }
    const creds = await this.identity();
    if (this.state !== 'starting') return; // stopped while enrolling
    this.deviceId = creds.deviceId;
    const createSession = this.opts.createSession ?? defaultCreateSession;
    const session = createSession({
      url: this.opts.serverUrl,
      deviceName: this.name,
      ...(creds.deviceId ? { deviceId: creds.deviceId } : {}),
      ...(creds.credential ? { credential: creds.credential } : {}),
      capabilities: this.caps,
      agentVersion: this.opts.agentVersion ?? AGENT_VERSION,
      heartbeat: () => this.heartbeat(),
      taskReports: () => this.taskReports(),
      logger: this.logger.child({ component: 'aip' }),
      ...(this.opts.reconnect ? { reconnect: this.opts.reconnect } : {}),
      ...(this.opts.caPem ? { caPem: this.opts.caPem } : {}),
      // With a lease, a silent orchestrator is noticed after 2 quiet intervals
      // instead of 3, so the kill can come before it declares the device lost.
      ...(this.lease ? { missedHeartbeats: 2 } : {}),
    });
    this.session = session;
    this.artifacts.attach(session);
    session.on('welcome', (w) => this.onWelcome(w));
    session.on('message', (body) => this.onMessage(body));
    session.on('acked', (_seq, body) => this.onAcked(body));
    session.on('disconnect', (reason) => this.onDisconnect(reason));
    session.on('fatal', (code, message) => this.onFatal(code, message));
    // What a previous run could not deliver goes first, in its original order.
    const pending = this.outbox.pending();
    for (const item of pending) session.send(item.body);
    if (pending.length > 0) this.logger.info({ count: pending.length }, 're-sending undelivered messages');
    this.state = 'running';
    session.start();
    this.logger.info(
      { server: this.opts.serverUrl, name: this.name, slots: this.caps.slots, features: this.caps.features },
      'agent started',
    );
  }

  /**
   * Where attempts work. The data dir is private (0700), so with runAs the
   * default moves to a temp dir the task's account can enter (one per data dir).
   */
  private workRoot(runAs: RunAs | undefined): string {
    if (this.opts.workDir) return path.resolve(this.opts.workDir);
    if (!runAs) return path.join(this.dataDir, 'work');
    const id = createHash('sha256').update(this.dataDir).digest('hex').slice(0, 12);
    return path.join(os.tmpdir(), `orrery-agent-work-${id}`);
  }

  private createExecutors(workRoot: string, runAs: RunAs | undefined): ExecutorRegistry {
    const ex = this.opts.executor ?? {};
    const stored = loadCredentials(this.dataDir);
    // Tasks never see the agent's credential, enrollment token (values or file paths) or ORRERY_* settings.
    const baseEnv = scrubbedEnv(ex.baseEnv ?? process.env, {
      secrets: [this.opts.credential, stored?.credential, this.opts.enrollToken, readEnrollTokenFile(this.dataDir)],
      paths: [path.join(this.dataDir, CREDENTIALS_FILE), path.join(this.dataDir, ENROLL_TOKEN_FILE)],
    });
    return new ExecutorRegistry({
      settings: {
        workRoot,
        maxForwardBytes: ex.maxForwardBytes ?? DEFAULT_MAX_FORWARD_BYTES,
        maxCaptureBytes: ex.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES,
        killGraceMs: ex.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        baseEnv,
        keepWorkDirs: ex.keepWorkDirs ?? false,
        ...(runAs ? { runAs } : {}),
      },
      ...(this.opts.allow ? { allow: this.opts.allow } : {}),
      ...(this.opts.adbPath ? { adbPath: this.opts.adbPath } : {}),
    });
  }

  private async identity(): Promise<{ deviceId: string; credential: string }> {
    const stored = loadCredentials(this.dataDir);
    let deviceId = this.opts.deviceId ?? stored?.deviceId ?? '';
    let credential = this.opts.credential ?? stored?.credential ?? '';
    const token = this.opts.enrollToken || readEnrollTokenFile(this.dataDir);
    if (!credential && token) {
      const enroll = this.opts.enroll ?? defaultEnroll;
      try {
        const enrolled = await enroll({
          url: this.opts.serverUrl,
          enroll: { token, deviceName: this.name, capabilities: this.caps },
          ...(this.opts.caPem ? { caPem: this.opts.caPem } : {}),
        });
        deviceId = enrolled.deviceId;
        credential = enrolled.credential;
      } catch (err) {
        throw new AgentError('AGENT_ENROLL_FAILED', `enrollment failed: ${(err as Error).message}`, { cause: err });
      }
      saveCredentials(this.dataDir, { deviceId, credential });
      removeEnrollTokenFile(this.dataDir);
      this.logger.info({ deviceId }, 'enrolled; credential stored');
    }
    return { deviceId, credential };
  }

  private onDisconnect(reason: string): void {
    this.logger.info({ reason }, 'disconnected from orchestrator');
    this.opts.onConnection?.({ connected: false, reason });
    if (this.state === 'running' && !this.fatalError) this.lease?.disconnected(reason);
  }

  /**
   * Out of contact for longer than stopAfterDisconnectMs: the orchestrator
   * may already run these tasks elsewhere, so they are killed now and
   * reported INTERRUPTED once the connection is back.
   */
  private onLeaseExpired(limitMs: number, disconnectedMs: number): void {
    if (this.live.size === 0 || this.state !== 'running') return;
    const why = `killed after ${disconnectedMs} ms without the orchestrator (stop-after-disconnect ${limitMs} ms)`;
    this.logger.warn({ running: this.live.size, disconnectedMs, limitMs }, 'orchestrator out of reach too long; killing running tasks');
    for (const e of this.live.values()) {
      e.interruptedByLease = why;
      e.run.cancel(why);
      e.run.hurry();
    }
  }

  private onWelcome(w: Welcome): void {
    this.lease?.connected();
    this.logger.info({ sessionId: w.sessionId, resumed: w.resumed, deviceId: w.deviceId }, 'connected');
    if (w.deviceId && w.deviceId !== this.deviceId) this.deviceId = w.deviceId;
    this.opts.onConnection?.({ connected: true, deviceId: this.deviceId, sessionId: w.sessionId });
  }

  private onFatal(code: string, message: string): void {
    this.fatalError = { code, message };
    this.logger.error({ code, message }, 'session ended by the orchestrator');
    for (const l of this.endListeners.splice(0)) l(`${code}: ${message}`);
  }

  /** The fatal error that ended the session, if any. */
  get fatal(): { code: string; message: string } | undefined {
    return this.fatalError;
  }

  private onMessage(body: Body): void {
    // A local failure (disk full...) must not escape into the session, which
    // would take it for a protocol error and drop the connection.
    try {
      this.dispatch(body);
    } catch (err) {
      this.logger.error({ err, type: body.type }, 'failed to handle a message');
      if (body.type === 'assign' && !this.live.has(attemptKey(body.value))) {
        this.reject(body.value, REJECT_CODES.internal, `agent error: ${(err as Error).message}`);
      }
    }
  }

  private dispatch(body: Body): void {
    switch (body.type) {
      case 'assign':
        this.onAssign(body.value);
        break;
      case 'cancel':
        this.onCancel(body.value);
        break;
      case 'drain':
        this.draining = true;
        this.logger.info({ reason: body.value.reason }, 'drain requested: taking no new work');
        break;
      case 'leaseRenewal':
        break;
      default:
        this.logger.debug({ type: body.type }, 'ignoring message');
    }
  }

  private onAcked(body: Body): void {
    const key = outboxKeyOf(body);
    if (key && this.outbox.remove(key)) this.logger.debug({ key }, 'delivered');
  }

  private send(body: Body): void {
    try {
      this.session?.send(body);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, type: body.type }, 'send failed');
    }
  }

  /** Puts a message in the outbox first, then sends it (still sent if the disk fails). */
  private sendDurable(body: Body): void {
    const key = outboxKeyOf(body);
    try {
      if (key) this.outbox.put(key, body);
    } catch (err) {
      this.logger.error({ err, key }, 'outbox write failed; sending without durability');
    }
    this.send(body);
  }

  private reject(a: Assign, code: string, reason: string): void {
    const { constellationId, taskId, attempt } = a;
    this.logger.info({ attempt: attemptKey(a), code, reason }, 'rejecting assignment');
    this.send({ type: 'reject', value: { constellationId, taskId, attempt, code, reason } });
  }

  private onAssign(a: Assign): void {
    const key = attemptKey(a);
    const ref: TaskRef = { constellationId: a.constellationId, taskId: a.taskId, attempt: a.attempt };
    if (this.live.has(key)) {
      // A replayed Assign for what already runs: confirm, do not run twice.
      this.send({ type: 'accept', value: ref });
      return;
    }
    const done = this.finished.get(ref);
    if (done) {
      this.logger.info({ attempt: key }, 'duplicate assignment of a finished attempt; re-sending its result');
      this.send({ type: 'result', value: done });
      return;
    }
    if (this.draining || this.state !== 'running') {
      this.reject(a, REJECT_CODES.draining, 'the agent is draining');
      return;
    }
    const kind = a.executor?.kind || 'shell';
    const executor = this.executors.get(kind);
    const problem = executor ? this.executors.check(executor, a) : this.executors.unavailable(kind);
    if (problem) {
      this.reject(a, problem.code, problem.message);
      return;
    }
    if (this.live.size >= this.caps.slots) {
      this.reject(a, REJECT_CODES.noFreeSlot, `all ${this.caps.slots} slots are busy`);
      return;
    }
    const startedAtMs = Date.now();
    this.journal.record({ ...ref, startedAtMs, pid: 0 });
    this.send({ type: 'accept', value: ref });
    this.logger.info({ attempt: key, executor: kind, what: executor!.describe(a) }, 'task started');
    const entry: LiveAttempt = { ref, startedAtMs, systemOffset: 0, interruptedByStop: false, run: undefined as never };
    this.live.set(key, entry);
    const progress = new ProgressThrottle((u) =>
      this.send({ type: 'progress', value: { ...ref, fraction: u.fraction, message: u.message } }),
    );
    entry.run = executor!.run(a, {
      onSpawn: (pid) => {
        const ticks = processStartTicks(pid);
        this.journal.record({ ...ref, startedAtMs, pid, ...(ticks ? { pidStartTicks: ticks } : {}) });
      },
      onOutput: (stream, data, offset) => this.sendLog(ref, stream, data, offset),
      onNote: (text) => this.systemLine(entry, text, false),
      onProgress: (u) => progress.push(u),
      ...this.artifactHooks(a, entry),
    });
    entry.run.done.then(
      (result) => {
        progress.stop();
        this.onAttemptDone(entry, result);
      },
      (err) => {
        progress.stop();
        this.logger.error({ err, attempt: key }, 'executor failed unexpectedly');
      },
    );
  }

  /** Artifact inputs placed before the process starts; outputs uploaded before the Result. */
  private artifactHooks(a: Assign, entry: LiveAttempt): Pick<AttemptHooks, 'prepare' | 'finalize'> {
    const ref = entry.ref;
    const note = (text: string): void => this.systemLine(entry, text, false);
    const report = (fraction: number, message: string): void => this.send({ type: 'progress', value: { ...ref, fraction, message } });
    const coded = (err: unknown): Error =>
      new Error(err instanceof ArtifactError ? `${err.code}: ${err.message}` : `ARTIFACT_STORE_FAILED: ${(err as Error).message}`);
    const hooks: Pick<AttemptHooks, 'prepare' | 'finalize'> = {};
    if (a.artifactInputs?.length) {
      hooks.prepare = (cwd) => this.artifacts.placeInputs(a, cwd, report, note).catch((err: unknown) => Promise.reject(coded(err)));
    }
    if (a.artifactOutputs?.length) {
      hooks.finalize = async (result, cwd) => {
        try {
          return { ...result, artifacts: await this.artifacts.collectOutputs(a, cwd, report, note) };
        } catch (err) {
          throw coded(err);
        }
      };
    }
    return hooks;
  }

  private sendLog(ref: TaskRef, stream: LogStream, data: Uint8Array, offset: number): void {
    this.send({ type: 'log', value: { ...ref, stream, data, offset } });
  }

  private systemLine(entry: LiveAttempt, text: string, durable: boolean): void {
    const data = Buffer.from(`${text}\n`, 'utf8');
    const body: Body = { type: 'log', value: { ...entry.ref, stream: 'SYSTEM', data, offset: entry.systemOffset } };
    entry.systemOffset += data.length;
    if (durable) this.sendDurable(body);
    else this.send(body);
  }

  private onAttemptDone(entry: LiveAttempt, raw: Result): void {
    const key = attemptKey(entry.ref);
    const result: Result = entry.interruptedByStop
      ? { ...raw, outcome: 'INTERRUPTED', error: 'the device agent stopped while the task ran' }
      : entry.interruptedByLease
        ? { ...raw, outcome: 'INTERRUPTED', error: entry.interruptedByLease }
        : raw;
    const secs = ((result.endedAtMs - result.startedAtMs) / 1000).toFixed(3);
    const how = result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
    this.systemLine(entry, `${result.outcome.toLowerCase()} after ${secs} s (${how})${result.error ? `: ${result.error}` : ''}`, true);
    this.sendDurable({ type: 'result', value: result });
    try {
      this.journal.remove(entry.ref);
    } catch (err) {
      this.logger.error({ err, attempt: key }, 'journal remove failed');
    }
    this.live.delete(key);
    this.finished.remember(result);
    this.logger.info({ attempt: key, outcome: result.outcome, exitCode: result.exitCode, secs }, 'task finished');
    if (this.live.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private onCancel(c: Cancel): void {
    const key = attemptKey(c);
    const entry = this.live.get(key);
    if (!entry) {
      this.logger.debug({ attempt: key }, 'cancel for an attempt not running here');
      return;
    }
    this.logger.info({ attempt: key, reason: c.reason }, 'cancelling task');
    entry.run.cancel(c.reason);
  }

  private heartbeat(): Heartbeat {
    const l = this.load.sample();
    const free = this.draining || this.state !== 'running' ? 0 : Math.max(0, this.caps.slots - this.live.size);
    // Changed capabilities ride along once (charging started, disk filled up...).
    const changed = this.monitor?.takeChange();
    return {
      running: this.live.size,
      freeSlots: free,
      batteryPercent: l.batteryPercent >= 0 ? l.batteryPercent : (this.monitor?.batteryPercent ?? -1),
      thermalCelsius: l.thermalCelsius,
      loadAvg: l.loadAvg,
      ...(changed ? { capabilities: changed } : {}),
    };
  }

  private taskReports(): TaskReport[] {
    const reports: TaskReport[] = [];
    for (const e of this.live.values()) reports.push({ ...e.ref, state: 'running' });
    for (const item of this.outbox?.pending() ?? []) {
      if (item.body.type === 'result') {
        const r = item.body.value;
        reports.push({
          constellationId: r.constellationId,
          taskId: r.taskId,
          attempt: r.attempt,
          state: r.outcome === 'INTERRUPTED' ? 'interrupted' : 'finished',
        });
      }
    }
    return reports;
  }

  /** Stop taking new work (what an orchestrator Drain does). */
  drain(): void {
    this.draining = true;
  }

  private whenIdle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Drain (default): take no new work, let running tasks finish, flush the
   * outbox, say Goodbye. Without drain: kill running tasks (reported
   * INTERRUPTED so the orchestrator reassigns them) and do the same.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.lease?.clear();
    this.monitor?.stop();
    this.draining = true;
    const drain = options.drain ?? true;
    this.logger.info({ drain, running: this.live.size }, 'agent stopping');
    if (!drain) this.killAll(false);
    else if (options.drainTimeoutMs !== undefined && this.live.size > 0) {
      const timer = setTimeout(() => this.killAll(false), options.drainTimeoutMs);
      await this.whenIdle();
      clearTimeout(timer);
    }
    await this.whenIdle();
    if (this.session && wasRunning && !this.fatalError) {
      const flushed = await settlesWithin(this.session.flushed(), this.opts.flushTimeoutMs ?? 5_000);
      if (!flushed) this.logger.warn({ pending: this.outbox.size }, 'outbox not fully acknowledged; kept for the next start');
    }
    await this.session?.stop(options.reason ?? (drain ? 'agent drained' : 'agent stopped'));
    this.artifacts?.close();
    this.state = 'stopped';
    this.logger.info('agent stopped');
  }

  /**
   * Kills every running task (SIGTERM, SIGKILL after the grace period, or at
   * once with `now`); their Results say INTERRUPTED so they are reassigned.
   */
  killAll(now = true): void {
    for (const e of this.live.values()) {
      e.interruptedByStop = true;
      e.run.cancel('agent stopping');
      if (now) e.run.hurry();
    }
  }
}

/** true when `p` resolves within `ms`; false when it rejects or takes longer. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
