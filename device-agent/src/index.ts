// Public API of @orrery/device-agent.
export { DeviceAgent } from './agent.js';
export type { CreateSession, DeviceAgentOptions, EnrollFn, StopOptions } from './agent-options.js';
export { cachedCapabilities, detectOs, probeCapabilities, type ProbeHost, type ProbeOptions } from './capabilities.js';
export { AgentError, type AgentErrorCode, REJECT_CODES } from './errors.js';
export { Outbox, type OutboxItem } from './outbox.js';
export { AttemptJournal, type JournalEntry } from './attempt-journal.js';
export {
  type AttemptHooks,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_CAPTURE_BYTES,
  DEFAULT_MAX_FORWARD_BYTES,
  inputEnvName,
  type RunningAttempt,
  ShellExecutor,
  type ShellExecutorOptions,
} from './shell-executor.js';
export { extractOutputs, selectPath } from './task-outputs.js';
export { loadCredentials, saveCredentials, type DeviceCredentials } from './credentials.js';
export { AGENT_VERSION } from './version.js';
export { agentMain, createAgentCommand, defaultDataDir, runAgentCli, type AgentMainOptions } from './cli.js';
export {
  renderLaunchdPlist,
  renderService,
  renderSystemdUnit,
  renderTermuxBoot,
  type ServiceFile,
  type ServicePlatform,
  type ServiceSpec,
  writeService,
} from './service.js';
