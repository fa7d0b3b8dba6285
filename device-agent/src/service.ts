// `orrery agent install`: service definitions that keep the agent running
// across reboots — a systemd unit (Linux), a launchd plist (macOS) or a
// Termux:Boot script (Android). Rendering is pure (tested as text); writing
// is a separate step so `--print` can show exactly what would be installed.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError } from './errors.js';

export type ServicePlatform = 'linux' | 'darwin' | 'android';
export type ServiceScope = 'user' | 'system';

export interface ServiceSpec {
  server: string;
  name?: string;
  labels?: string[];
  slots?: number;
  dataDir: string;
  logLevel?: string;
  /** argv that starts the agent, before its options. Default: [node, bin/orrery-agent.js]. */
  command?: string[];
  scope?: ServiceScope;
  /** system scope: the account the agent runs as (Linux User=, macOS UserName). */
  user?: string;
  /** Seconds a drain may take before the service manager kills what is left. Default 300. */
  stopTimeoutSec?: number;
}

export interface ServiceFile {
  platform: ServicePlatform;
  path: string;
  text: string;
  mode: number;
  /** Commands the user runs afterwards to enable the service. */
  nextSteps: string[];
}

export const SERVICE_NAME = 'orrery-agent';
export const LAUNCHD_LABEL = 'dev.orrery.agent';

/** The agent's own bin script, next to dist/. */
export function defaultAgentCommand(): string[] {
  const bin = fileURLToPath(new URL('../bin/orrery-agent.js', import.meta.url));
  return [process.execPath, bin];
}

/** The argv of the agent with the spec's options. */
export function agentArgv(spec: ServiceSpec): string[] {
  const argv = [...(spec.command ?? defaultAgentCommand()), '--server', spec.server, '--data-dir', spec.dataDir];
  if (spec.name) argv.push('--name', spec.name);
  if (spec.labels && spec.labels.length > 0) argv.push('--labels', spec.labels.join(','));
  if (spec.slots !== undefined) argv.push('--slots', String(spec.slots));
  if (spec.logLevel) argv.push('--log-level', spec.logLevel);
  return argv;
}

/** systemd ExecStart quoting: double quotes, and % / $ doubled so they are literal. */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? escaped : `"${escaped.replace(/(["\\])/g, '\\$1')}"`;
}

export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderSystemdUnit(spec: ServiceSpec): string {
  const scope = spec.scope ?? 'user';
  const lines = [
    '[Unit]',
    `Description=Orrery device agent${spec.name ? ` (${spec.name})` : ''}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${agentArgv(spec).map(systemdQuote).join(' ')}`,
    'Restart=always',
    'RestartSec=5',
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
  if (scope === 'system' && spec.user) lines.push(`User=${spec.user}`);
  lines.push('', '[Install]', `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

export function renderLaunchdPlist(spec: ServiceSpec): string {
  const args = agentArgv(spec)
    .map((a) => `    <string>${xmlEscape(a)}</string>`)
    .join('\n');
  const log = xmlEscape(path.join(spec.dataDir, 'agent.log'));
  const user =
    (spec.scope ?? 'user') === 'system' && spec.user ? `  <key>UserName</key>\n  <string>${xmlEscape(spec.user)}</string>\n` : '';
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
  <key>ExitTimeOut</key>
  <integer>${spec.stopTimeoutSec ?? 300}</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>${log}</string>
  <key>StandardErrorPath</key>
  <string>${log}</string>
</dict>
</plist>
`;
}

export function renderTermuxBoot(spec: ServiceSpec): string {
  const argv = agentArgv(spec).map(shellQuote).join(' ');
  const log = shellQuote(path.join(spec.dataDir, 'agent.log'));
  return `#!/data/data/com.termux/files/usr/bin/sh
# Orrery device agent, started by Termux:Boot after the phone boots.
# The wake lock keeps Android from suspending the agent while it waits for work.
termux-wake-lock
(
  # Restart after a crash; a clean exit (0: drained) or exit 2 (the
  # orchestrator ended this device's session for good) ends the loop.
  while :; do
    ${argv} >> ${log} 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then break; fi
    sleep 5
  done
) &
`;
}

export function currentServicePlatform(): ServicePlatform {
  if (process.platform === 'darwin') return 'darwin';
  if (process.platform === 'android' || process.env.ANDROID_ROOT || process.env.TERMUX_VERSION) return 'android';
  if (process.platform === 'linux') return 'linux';
  throw new AgentError('AGENT_SERVICE_UNSUPPORTED', `no service installer for ${process.platform}; run the agent from your own supervisor`);
}

/** Where the service file goes and what it contains. */
export function renderService(spec: ServiceSpec, platform: ServicePlatform, home = os.homedir()): ServiceFile {
  const scope = spec.scope ?? 'user';
  switch (platform) {
    case 'linux': {
      const file =
        scope === 'system'
          ? `/etc/systemd/system/${SERVICE_NAME}.service`
          : path.join(home, '.config', 'systemd', 'user', `${SERVICE_NAME}.service`);
      const ctl = scope === 'system' ? 'systemctl' : 'systemctl --user';
      const steps = [`${ctl} daemon-reload`, `${ctl} enable --now ${SERVICE_NAME}`];
      if (scope === 'user') steps.push('loginctl enable-linger "$USER"   # keep it running while logged out');
      return { platform, path: file, text: renderSystemdUnit(spec), mode: 0o644, nextSteps: steps };
    }
    case 'darwin': {
      const file =
        scope === 'system'
          ? `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`
          : path.join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
      const domain = scope === 'system' ? 'system' : 'gui/$(id -u)';
      return {
        platform,
        path: file,
        text: renderLaunchdPlist(spec),
        mode: 0o644,
        nextSteps: [`launchctl bootstrap ${domain} ${file}`],
      };
    }
    case 'android':
      return {
        platform,
        path: path.join(home, '.termux', 'boot', SERVICE_NAME),
        text: renderTermuxBoot(spec),
        mode: 0o700,
        nextSteps: ['install the Termux:Boot app and open it once', `sh ~/.termux/boot/${SERVICE_NAME}   # start now without rebooting`],
      };
  }
}

export function writeService(file: ServiceFile): void {
  mkdirSync(path.dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.text, { mode: file.mode });
  chmodSync(file.path, file.mode);
}
