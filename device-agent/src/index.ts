// Public API of @orrery/device-agent.
export { DeviceAgent } from './agent.js';
export type { CreateSession, DeviceAgentOptions, EnrollFn, StopOptions } from './agent-options.js';
export {
  cachedCapabilities,
  detectOs,
  type FullProbe,
  probeCapabilities,
  probeCapabilitiesAsync,
  type ProbeHost,
  type ProbeOptions,
  realProbeHost,
} from './capabilities.js';
export { CapabilityMonitor, type CapabilityMonitorOptions, capabilitiesDiffer } from './capability-monitor.js';
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
} from './executors/shell.js';
export type { AssignProblem, ExecutorSettings, RunAs, TaskExecutor } from './executors/types.js';
export { ExecutorRegistry, KNOWN_EXECUTORS } from './executors/registry.js';
export { HttpExecutor } from './executors/http.js';
export { McpExecutor } from './executors/mcp.js';
export { AdbExecutor } from './executors/adb.js';
export { type AllowSettings, compilePattern, NOT_ALLOWED_CODES } from './safety/policy.js';
export { scrubbedEnv } from './safety/task-env.js';
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
