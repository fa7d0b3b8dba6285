// Public API of @orrery/device-agent.
export { DeviceAgent } from './agent.js';
export {
  AGENT_CONFIG_SHAPE,
  type AgentConfig,
  AgentConfigError,
  defaultConfigPath,
  loadAgentConfig,
  validateAgentConfig,
} from './agent-config.js';
export type { CreateSession, DeviceAgentOptions, EnrollFn, StopOptions } from './agent-options.js';
export { AttemptJournal, type JournalEntry } from './attempt-journal.js';
export {
  cachedCapabilities,
  detectOs,
  type FullProbe,
  type ProbeHost,
  type ProbeOptions,
  probeCapabilities,
  probeCapabilitiesAsync,
  realProbeHost,
} from './capabilities.js';
export { CapabilityMonitor, type CapabilityMonitorOptions, capabilitiesDiffer } from './capability-monitor.js';
export { type AgentMainOptions, agentMain, createAgentCommand, defaultDataDir, runAgentCli } from './cli.js';
export { type DeviceCredentials, loadCredentials, saveCredentials } from './credentials.js';
export { AgentError, type AgentErrorCode, REJECT_CODES } from './errors.js';
export { AdbExecutor } from './executors/adb.js';
export { HttpExecutor } from './executors/http.js';
export { McpExecutor } from './executors/mcp.js';
export { ExecutorRegistry, KNOWN_EXECUTORS } from './executors/registry.js';
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
export { Outbox, type OutboxItem } from './outbox.js';
export { type AllowSettings, compilePattern, NOT_ALLOWED_CODES } from './safety/policy.js';
export { scrubbedEnv } from './safety/task-env.js';
export {
  DEFAULT_NODE_FLAGS,
  planService,
  renderLaunchdPlist,
  renderSystemdUnit,
  renderTermuxBoot,
  renderWindowsTaskXml,
  renderWindowsWrapper,
  type ServiceFile,
  type ServicePlan,
  type ServicePlatform,
  type ServiceSpec,
} from './service.js';
export { installService, type ServiceStatus, serviceStatus, uninstallService } from './service-manager.js';
export { extractOutputs, selectPath } from './task-outputs.js';
export { AGENT_VERSION } from './version.js';
