// Connects AIP sessions to the engine: authentication and enrollment against
// the store, and translation of agent messages into engine calls.
import { randomBytes } from 'node:crypto';
import { AipServer, type AuthDecision, type Body, type EnrollDecision, type ServerSession } from '@orrery/protocol';
import { customAlphabet } from 'nanoid';
import type { Logger } from 'pino';
import type { ArtifactHub } from '../artifacts/artifact-hub.js';
import { reportProgress } from '../model/index.js';
import type { OrchestratorStore } from '../store/index.js';
import { hashSecret } from '../store/index.js';
import type { Engine } from './engine.js';

const deviceIdFor = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 12);

const OUTCOMES = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'timed_out',
  CANCELLED: 'cancelled',
  INTERRUPTED: 'interrupted',
} as const;

export interface GatewayOptions {
  engine: Engine;
  store: OrchestratorStore;
  logger: Logger;
  authDisabled: boolean;
  heartbeatIntervalMs: number;
  missedHeartbeats: number;
  /** Artifact transfer and storage; absent = artifacts refused. */
  artifacts?: ArtifactHub;
}

export function createAgentGateway(opts: GatewayOptions): AipServer {
  const { engine, store } = opts;
  const log = opts.logger.child({ component: 'aip' });
  const grantedLabels = new Map<string, string[]>();

  const authenticate = (hello: import('@orrery/protocol').Hello): AuthDecision => {
    if (opts.authDisabled) {
      // Local development: a device is who it says it is, keyed by name.
      const deviceId = hello.deviceId || `dev-${hello.deviceName || 'unnamed'}`;
      return { ok: true, deviceId };
    }
    if (!hello.deviceId || !hello.credential) {
      return { ok: false, code: 'AIP_UNAUTHENTICATED', message: 'this orchestrator needs enrolled devices: run the agent with --token <enrollment token>' };
    }
    const record = store.getDevice(hello.deviceId);
    if (record?.revoked) return { ok: false, code: 'AIP_REVOKED', message: 'this device was revoked; enroll it again with a new token' };
    const verified = store.verifyDeviceCredential(hello.deviceId, hello.credential);
    if (!verified) return { ok: false, code: 'AIP_UNAUTHENTICATED', message: 'unknown device or wrong credential' };
    grantedLabels.set(verified.id, verified.labels);
    store.touchDevice(verified.id, Date.now());
    return { ok: true, deviceId: verified.id, labels: verified.labels };
  };

  const enroll = (req: import('@orrery/protocol').Enroll): EnrollDecision => {
    const deviceId = `d-${deviceIdFor()}`;
    const credential = randomBytes(32).toString('base64url');
    // Token use and device record in one transaction: a refused name burns no use.
    const r = store.enrollDevice(req.token, { id: deviceId, name: req.deviceName || deviceId, credentialHash: hashSecret(credential) });
    if (!r.ok) {
      const why = r.reason === 'name_taken' ? `a device named ${JSON.stringify(req.deviceName)} is already enrolled` : `enrollment token ${r.reason}`;
      return { ok: false, code: 'AIP_UNAUTHENTICATED', message: why };
    }
    log.info({ deviceId, name: req.deviceName }, 'device enrolled');
    return { ok: true, enrolled: { deviceId, credential, labels: r.device.labels } };
  };

  const server = new AipServer({
    authenticate,
    ...(opts.authDisabled ? {} : { enroll }),
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    missedHeartbeats: opts.missedHeartbeats,
    // An agent's Result is acknowledged only once it is in the journal.
    holdAcks: true,
    // A busy agent sends a few hundred frames a second; a flood is closed.
    maxFramesPerSecond: 10_000,
    logger: log,
  });

  const wired = new WeakSet<ServerSession>();
  server.on('session', (session, resumed) => {
    engine.deviceLife.connected(session, grantedLabels.get(session.deviceId) ?? [], resumed);
    opts.artifacts?.attach(session, resumed);
    if (wired.has(session)) return;
    wired.add(session);
    session.on('message', (body) => {
      engine.holdAck(session);
      onMessage(session, body);
    });
    session.on('heartbeat', (hb) => engine.deviceLife.heartbeat(session.deviceId, hb));
    session.on('disconnect', (reason) => engine.deviceLife.disconnected(session.deviceId, reason, false));
    session.on('end', (reason) => {
      // A replaced session ends while its device lives on in the new one.
      if (engine.devices.get(session.deviceId)?.session === session) engine.deviceLife.disconnected(session.deviceId, reason, true);
    });
  });

  function onMessage(session: ServerSession, body: Body): void {
    const device = engine.devices.get(session.deviceId);
    switch (body.type) {
      case 'accept': {
        const v = body.value;
        const holder = engine.state.constellations.get(v.constellationId)?.tasks[v.taskId]?.attempts.at(-1)?.deviceId;
        if (holder !== undefined && holder !== session.deviceId) return;
        const r = engine.record('task.started', { id: v.constellationId, taskId: v.taskId, attempt: v.attempt, startedAt: Date.now() });
        if (r.rejected?.stale) engine.sendCancel(session.deviceId, v.constellationId, v.taskId, v.attempt, 'attempt is no longer current');
        return;
      }
      case 'reject': {
        const v = body.value;
        engine.rejected(device, v.constellationId, v.taskId, v.attempt, v.code, v.reason);
        return;
      }
      case 'progress': {
        const v = body.value;
        const c = engine.state.constellations.get(v.constellationId);
        // Progress is live-only (not journaled): it changes no decision.
        if (c && reportProgress(c, v.taskId, v.attempt, { fraction: v.fraction, message: v.message }).ok) {
          engine.markDirty(c.id, v.taskId);
          engine.scheduleFlush();
        }
        return;
      }
      case 'log': {
        const v = body.value;
        const stream = v.stream === 'STDERR' ? 'stderr' : v.stream === 'SYSTEM' ? 'system' : 'stdout';
        const data = Buffer.from(v.data);
        engine.addLogs([{ constellationId: v.constellationId, taskId: v.taskId, attempt: v.attempt, stream, offset: v.offset, data }]);
        engine.publish({
          type: 'log',
          data: { constellationId: v.constellationId, taskId: v.taskId, attempt: v.attempt, stream, text: data.toString('utf8') },
        });
        return;
      }
      case 'result': {
        const v = body.value;
        let outcome: (typeof OUTCOMES)[keyof typeof OUTCOMES] = OUTCOMES[v.outcome as keyof typeof OUTCOMES] ?? 'failed';
        let error = v.error;
        // A success may only name artifacts this orchestrator has stored.
        const declared = Object.keys(engine.state.constellations.get(v.constellationId)?.tasks[v.taskId]?.spec.artifacts ?? {});
        const stored = outcome === 'succeeded' && v.artifacts?.length ? (opts.artifacts?.resultArtifacts(v.artifacts, declared) ?? { error: 'ARTIFACT_UNSUPPORTED: this orchestrator stores no artifacts' }) : {};
        if (stored.error) {
          outcome = 'failed';
          error = stored.error;
        }
        engine.finishAttempt(device, v.constellationId, v.taskId, v.attempt, {
          outcome,
          exitCode: v.exitCode,
          ...(error ? { error } : {}),
          outputs: v.outputs ?? {},
          ...(stored.artifacts ? { artifacts: stored.artifacts } : {}),
          ...(v.startedAtMs ? { startedAt: v.startedAtMs } : {}),
          ...(v.endedAtMs ? { endedAt: v.endedAtMs } : {}),
        });
        return;
      }
      default:
        log.debug({ type: body.type, device: session.deviceId }, 'ignored message');
    }
  }

  return server;
}
