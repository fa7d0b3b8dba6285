// `orrery agent install`: service definitions that keep the agent running
// across reboots and restart it after a crash — a systemd unit (Linux), a
// launchd plist (macOS), a Task Scheduler task (Windows) or a Termux:Boot
// script (Android). Each points at the agent config file (agent.yaml) that
// install writes next to it. Rendering is pure (tested as text); writing and
// running the platform tools is service-manager.ts.
//
// Exit codes the definitions honour: 0 = stopped cleanly (drained), not
// restarted where the manager can tell; 2 = the orchestrator ended this
// device's session for good (revoked): never restarted; anything else (a
// crash, SIGKILL, OOM): restarted after a short delay.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConfigScope, defaultConfigPath } from './agent-config.js';
import { AgentError } from './errors.js';

export type ServicePlatform = 'linux' | 'darwin' | 'windows' | 'android';
export type ServiceScope = ConfigScope;

export interface ServiceSpec {
  /** The agent config file the service starts the agent with. */
  configPath: string;
  /** Where the agent keeps its state (logs go there on macOS, Windows and Android). */
  dataDir: string;
  /** Device name, for descriptions only (the agent reads it from the config). */
  name?: string;
  /** The node binary and the agent's script. Default: this node and this agent (bundle or bin). */
  command?: string[];
  /** V8/node flags put before the script (footprint: see DEFAULT_NODE_FLAGS). */
  nodeFlags?: string[];
  scope?: ServiceScope;
  /** system scope: the account the agent runs as (systemd User=, launchd UserName, Windows /RU). */
  user?: string;
  /** Seconds a drain may take before the service manager kills what is left. Default 300. */
  stopTimeoutSec?: number;
  /** Seconds between a crash and the restart. Default 5. */
  restartDelaySec?: number;
}

export interface ServiceFile {
  path: string;
  text: string;
  mode: number;
  /** How the text is stored; default utf8. Task Scheduler XML is UTF-16LE with a BOM, as Windows exports it. */
  encoding?: 'utf8' | 'utf16le';
}

export interface ServicePlan {
  platform: ServicePlatform;
  scope: ServiceScope;
  /** The main definition (unit, plist, task XML, boot script). */
  file: ServiceFile;
  /** Every file install writes besides the config (the definition first). */
  files: ServiceFile[];
  /** Commands that register and start it (run when the tool exists, else printed). */
  enable: string[][];
  /** Commands that stop and unregister it (before the files are removed). */
  disable: string[][];
  /** The platform tool's view of the service, parsed by service-manager.ts. */
  status: string[][];
  /** What the user does by hand when the commands cannot run here. */
  notes: string[];
}

export const SERVICE_NAME = 'orrery-agent';
export const LAUNCHD_LABEL = 'dev.orrery.agent';
export const WINDOWS_TASK_NAME = 'Orrery Agent';

/**
 * Node flags the service definitions start the agent with: a small young
 * generation and a capped old one keep an idle agent's RSS down (measured by
 * scripts/bench/agent-footprint.mjs); the agent's heap stays in single MBs.
 */
export const DEFAULT_NODE_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=128'];

declare const __ORRERY_AGENT_BUNDLE__: boolean | undefined;

/** node + the agent: the bundle file itself when running bundled, else bin/orrery-agent.js. */
export function defaultAgentCommand(): string[] {
  const bundled = typeof __ORRERY_AGENT_BUNDLE__ !== 'undefined' && __ORRERY_AGENT_BUNDLE__;
  const script = bundled
    ? fileURLToPath(import.meta.url)
    : fileURLToPath(new URL('../bin/orrery-agent.js', import.meta.url));
  return [process.execPath, script];
}

/** The argv a service runs: node, its flags, the agent, `--config <file>`. */
export function agentArgv(spec: ServiceSpec): string[] {
  const [node, ...script] = spec.command ?? defaultAgentCommand();
  return [node!, ...(spec.nodeFlags ?? DEFAULT_NODE_FLAGS), ...script, '--config', spec.configPath];
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** systemd ExecStart quoting: double quotes, and % / $ doubled so they are literal. */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return SAFE.test(arg) ? escaped : `"${escaped.replace(/(["\\])/g, '\\$1')}"`;
}

export function shellQuote(arg: string): string {
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** cmd.exe quoting for a .cmd file: double quotes, % doubled. */
export function cmdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  return /^[A-Za-z0-9_@+=:,./\\-]+$/.test(arg) ? escaped : `"${escaped.replace(/"/g, '""')}"`;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderSystemdUnit(spec: ServiceSpec): string {
  const scope = spec.scope ?? 'user';
  const lines = [
    '[Unit]',
    // % starts a specifier in systemd values: doubled, it is literal.
    `Description=Orrery device agent${spec.name ? ` (${spec.name.replace(/%/g, '%%')})` : ''}`,
    'After=network-online.target',
    'Wants=network-online.target',
    // Crash loops: at most 10 starts in 5 minutes, then systemd gives up (status shows it).
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${agentArgv(spec).map(systemdQuote).join(' ')}`,
    'Restart=on-failure',
    `RestartSec=${spec.restartDelaySec ?? 5}`,
    // Exit 2: the orchestrator ended this device's session for good (revoked,
    // told to go away); restarting would only knock on a closed door.
    'RestartPreventExitStatus=2',
    // SIGTERM to the agent only: it drains (running tasks finish) and exits.
    // Tasks lead their own process groups; at the timeout systemd kills the rest.
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${spec.stopTimeoutSec ?? 300}`,
    'Environment=NODE_ENV=production',
  ];
  if (scope === 'system') {
    if (spec.user) lines.push(`User=${spec.user}`);
    // /var/lib/orrery-agent, created and owned by the service's account.
    if (spec.dataDir === `/var/lib/${SERVICE_NAME}`)
      lines.push(`StateDirectory=${SERVICE_NAME}`, 'StateDirectoryMode=0700');
  }
  lines.push('', '[Install]', `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

export function renderLaunchdPlist(spec: ServiceSpec): string {
  const args = agentArgv(spec)
    .map((a) => `    <string>${xmlEscape(a)}</string>`)
    .join('\n');
  const log = xmlEscape(path.join(spec.dataDir, 'agent.log'));
  const user =
    (spec.scope ?? 'user') === 'system' && spec.user
      ? `  <key>UserName</key>\n  <string>${xmlEscape(spec.user)}</string>\n`
      : '';
  // KeepAlive/SuccessfulExit=false restarts after any non-zero exit, 2 included:
  // launchd cannot exempt one code, so a revoked agent is retried every
  // ThrottleInterval (60 s) and exits 2 again at once — cheap, and `status`
  // shows "last exit code = 2".
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
${user}  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>60</integer>
  <key>ExitTimeOut</key>
  <integer>${spec.stopTimeoutSec ?? 300}</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>EnvironmentVariables</key>
  <dict>
    <key>NODE_ENV</key>
    <string>production</string>
  </dict>
  <key>StandardOutPath</key>
  <string>${log}</string>
  <key>StandardErrorPath</key>
  <string>${log}</string>
</dict>
</plist>
`;
}

/**
 * POSIX sh supervisor (Termux:Boot, or any sh): started without arguments
 * it takes the wake lock and re-runs itself in the background with
 * `--supervise`; the supervising copy records its pid, runs the agent, and
 * restarts it after a crash. 0 (drained) and 2 (revoked) end the loop.
 * SIGTERM to the loop drains the agent and ends it (uninstall does that).
 */
export function renderTermuxBoot(spec: ServiceSpec, shell = '/data/data/com.termux/files/usr/bin/sh'): string {
  const argv = agentArgv(spec).map(shellQuote).join(' ');
  const log = shellQuote(path.join(spec.dataDir, 'agent.log'));
  const pidFile = shellQuote(path.join(spec.dataDir, 'supervisor.pid'));
  return `#!${shell}
# Orrery device agent, started by Termux:Boot after the phone boots
# (written by \`orrery-agent install\`; config: ${spec.configPath}).
if [ "$1" != "--supervise" ]; then
  # The wake lock keeps Android from suspending the agent while it waits for work.
  command -v termux-wake-lock >/dev/null 2>&1 && termux-wake-lock
  mkdir -p ${shellQuote(spec.dataDir)}
  nohup sh "$0" --supervise >> ${log} 2>&1 &
  exit 0
fi
echo $$ > ${pidFile}
child=
stop() {
  # Pass the stop on: the agent drains, then the loop ends.
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  rm -f ${pidFile}
  exit 0
}
trap stop TERM INT HUP
while :; do
  ${argv} &
  child=$!
  wait "$child"
  rc=$?
  child=
  # 0: drained and stopped; 2: the orchestrator ended this device's session for good.
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
    echo "orrery-agent exited with $rc; not restarting"
    break
  fi
  echo "orrery-agent exited with $rc; restarting in ${spec.restartDelaySec ?? 5} s"
  sleep ${spec.restartDelaySec ?? 5}
done
rm -f ${pidFile}
`;
}

/**
 * Windows runs the agent from a scheduled task rather than a service: a
 * Windows service must answer the Service Control Manager, which node does
 * not (it would need a wrapper binary such as WinSW or NSSM, i.e. something
 * to download). Task Scheduler starts it at boot (system) or logon (user),
 * under the chosen account, with no time limit; this wrapper restarts it
 * after a crash, except after 0 (drained) or 2 (revoked).
 */
export function renderWindowsWrapper(spec: ServiceSpec): string {
  const argv = agentArgv(spec).map(cmdQuote).join(' ');
  const log = cmdQuote(path.win32.join(spec.dataDir, 'agent.log'));
  const delay = spec.restartDelaySec ?? 5;
  return `@echo off\r
rem Orrery device agent, started by Task Scheduler (written by orrery-agent install).\r
rem Restarts the agent after a crash; 0 (drained) and 2 (revoked) end the loop.\r
if not exist ${cmdQuote(spec.dataDir)} mkdir ${cmdQuote(spec.dataDir)}\r
:loop\r
${argv} >> ${log} 2>&1\r
set rc=%ERRORLEVEL%\r
if "%rc%"=="0" exit /b 0\r
if "%rc%"=="2" exit /b 2\r
echo orrery-agent exited with %rc%; restarting in ${delay} s >> ${log}\r
rem (not "timeout /t": without a console it fails at once, and this would spin)\r
ping -n ${delay + 1} 127.0.0.1 >nul\r
goto loop\r
`;
}

export function renderWindowsTaskXml(spec: ServiceSpec, wrapperPath: string): string {
  const system = (spec.scope ?? 'user') === 'system';
  const trigger = system
    ? '    <BootTrigger>\n      <Enabled>true</Enabled>\n    </BootTrigger>'
    : '    <LogonTrigger>\n      <Enabled>true</Enabled>\n    </LogonTrigger>';
  const principal = system
    ? `      <UserId>${xmlEscape(spec.user ?? 'S-1-5-18')}</UserId>\n      <LogonType>${spec.user ? 'Password' : 'ServiceAccount'}</LogonType>\n      <RunLevel>LeastPrivilege</RunLevel>`
    : '      <LogonType>InteractiveToken</LogonType>\n      <RunLevel>LeastPrivilege</RunLevel>';
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Orrery device agent${spec.name ? ` (${xmlEscape(spec.name)})` : ''}; config ${xmlEscape(spec.configPath)}</Description>
  </RegistrationInfo>
  <Triggers>
${trigger}
  </Triggers>
  <Principals>
    <Principal id="Author">
${principal}
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>cmd.exe</Command>
      <Arguments>/d /c ${xmlEscape(cmdQuote(wrapperPath))}</Arguments>
    </Exec>
  </Actions>
</Task>
`;
}

export function currentServicePlatform(env: NodeJS.ProcessEnv = process.env): ServicePlatform {
  if (process.platform === 'android' || env.TERMUX_VERSION || env.ANDROID_ROOT) return 'android';
  if (process.platform === 'darwin') return 'darwin';
  if (process.platform === 'win32') return 'windows';
  if (process.platform === 'linux') return 'linux';
  throw new AgentError(
    'AGENT_SERVICE_UNSUPPORTED',
    `no service installer for ${process.platform}; run the agent from your own supervisor`,
  );
}

export interface PlanHost {
  home: string;
  env: NodeJS.ProcessEnv;
  /** Numeric uid for launchd's gui/<uid> domain. */
  uid?: number;
}

/** Where everything goes and which commands enable, disable and query it. */
// Control characters (a newline above all) would start a new line in a unit
// file or script: `name: "x\nExecStartPre=..."` must not become a directive.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
/** systemd/launchd/Windows account names: no quoting needed anywhere. */
const ACCOUNT = /^[A-Za-z0-9_][A-Za-z0-9_.@\\-]*\$?$/;

/** Refuses values that could break out of the generated files (AGENT_CONFIG_INVALID). */
export function checkServiceSpec(spec: ServiceSpec): void {
  const fields: Array<[string, string | undefined]> = [
    ['name', spec.name],
    ['user', spec.user],
    ['configPath', spec.configPath],
    ['dataDir', spec.dataDir],
    ...(spec.command ?? []).map((c, i): [string, string] => [`command.${i}`, c]),
    ...(spec.nodeFlags ?? []).map((c, i): [string, string] => [`nodeFlags.${i}`, c]),
  ];
  for (const [key, value] of fields) {
    if (value !== undefined && CONTROL.test(value)) {
      throw new AgentError(
        'AGENT_CONFIG_INVALID',
        `${key} ${JSON.stringify(value)} contains a control character (newline, tab...); it would corrupt the service file. Remove it`,
      );
    }
  }
  if (spec.user !== undefined && !ACCOUNT.test(spec.user)) {
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      `user ${JSON.stringify(spec.user)} is not an account name (letters, digits, _ . @ - \\); give the account's name`,
    );
  }
}

export function planService(spec: ServiceSpec, platform: ServicePlatform, host: PlanHost): ServicePlan {
  checkServiceSpec(spec);
  const scope = spec.scope ?? 'user';
  switch (platform) {
    case 'linux': {
      const dir =
        scope === 'system'
          ? '/etc/systemd/system'
          : path.join(host.env.XDG_CONFIG_HOME || path.join(host.home, '.config'), 'systemd', 'user');
      const file = { path: path.join(dir, `${SERVICE_NAME}.service`), text: renderSystemdUnit(spec), mode: 0o644 };
      const ctl = scope === 'system' ? ['systemctl'] : ['systemctl', '--user'];
      return {
        platform,
        scope,
        file,
        files: [file],
        enable: [
          [...ctl, 'daemon-reload'],
          [...ctl, 'enable', '--now', SERVICE_NAME],
        ],
        disable: [[...ctl, 'disable', '--now', SERVICE_NAME]],
        status: [
          [
            ...ctl,
            'show',
            SERVICE_NAME,
            '--property=LoadState,ActiveState,SubState,MainPID,ExecMainStatus,ExecMainCode,NRestarts,UnitFileState',
          ],
        ],
        notes:
          scope === 'user'
            ? [
                'loginctl enable-linger "$USER"   # keep the user service running while logged out, and start it at boot',
              ]
            : [],
      };
    }
    case 'darwin': {
      const file = {
        path:
          scope === 'system'
            ? `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`
            : path.join(host.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
        text: renderLaunchdPlist(spec),
        mode: 0o644,
      };
      const domain = scope === 'system' ? 'system' : `gui/${host.uid ?? 501}`;
      return {
        platform,
        scope,
        file,
        files: [file],
        enable: [['launchctl', 'bootstrap', domain, file.path]],
        disable: [['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`]],
        status: [['launchctl', 'print', `${domain}/${LAUNCHD_LABEL}`]],
        notes: [],
      };
    }
    case 'windows': {
      const dir = path.win32.dirname(spec.configPath);
      const wrapper = {
        path: path.win32.join(dir, `${SERVICE_NAME}.cmd`),
        text: renderWindowsWrapper(spec),
        mode: 0o644,
      };
      const xml: ServiceFile = {
        path: path.win32.join(dir, `${SERVICE_NAME}-task.xml`),
        text: renderWindowsTaskXml(spec, wrapper.path).replace(/\n/g, '\r\n'),
        mode: 0o644,
        encoding: 'utf16le',
      };
      const create = ['schtasks', '/Create', '/TN', WINDOWS_TASK_NAME, '/XML', xml.path, '/F'];
      if (scope === 'system' && spec.user) create.push('/RU', spec.user, '/RP', '*');
      // ProgramData lets every user read (and create files in) new folders: the
      // wrapper runs as SYSTEM and the data dir holds the credential, so both
      // folders get an explicit ACL (SYSTEM, Administrators, the task's account) first.
      const lockDown = (folder: string): string[] => [
        'icacls',
        folder,
        '/inheritance:r',
        '/grant:r',
        '*S-1-5-18:(OI)(CI)F',
        '*S-1-5-32-544:(OI)(CI)F',
        ...(spec.user ? [`${spec.user}:(OI)(CI)M`] : []),
        '/T',
      ];
      const acls =
        scope === 'system'
          ? [...new Set([dir, spec.dataDir].map((d) => path.win32.resolve(d)))].map(lockDown)
          : [];
      return {
        platform,
        scope,
        file: xml,
        files: [xml, wrapper],
        enable: [...acls, create, ['schtasks', '/Run', '/TN', WINDOWS_TASK_NAME]],
        disable: [
          ['schtasks', '/End', '/TN', WINDOWS_TASK_NAME],
          ['schtasks', '/Delete', '/TN', WINDOWS_TASK_NAME, '/F'],
        ],
        status: [['schtasks', '/Query', '/TN', WINDOWS_TASK_NAME, '/V', '/FO', 'LIST']],
        notes:
          scope === 'system' && spec.user
            ? [`schtasks asks for the password of ${spec.user} (needed to run at boot without a logon)`]
            : [],
      };
    }
    case 'android': {
      const file = {
        path: path.join(host.home, '.termux', 'boot', SERVICE_NAME),
        text: renderTermuxBoot(spec, host.env.PREFIX ? path.join(host.env.PREFIX, 'bin', 'sh') : undefined),
        mode: 0o700,
      };
      return {
        platform,
        scope: 'user',
        file,
        files: [file],
        enable: [['sh', file.path]],
        disable: [],
        status: [],
        notes: ['install the Termux:Boot app (F-Droid) and open it once, so it runs ~/.termux/boot/ at every boot'],
      };
    }
  }
}

/** The config path install writes for a scope on a platform. */
export function serviceConfigPath(platform: ServicePlatform, scope: ServiceScope, host: PlanHost): string {
  return defaultConfigPath(platform === 'android' ? 'user' : scope, { env: host.env, platform, home: host.home });
}
