import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  agentArgv,
  renderLaunchdPlist,
  renderService,
  renderSystemdUnit,
  renderTermuxBoot,
  type ServiceSpec,
  shellQuote,
  systemdQuote,
  writeService,
} from '../src/service.js';
import { tempDir } from './helpers.js';

const spec: ServiceSpec = {
  server: 'wss://orrery.example:7443/v1/aip',
  name: 'lab-box',
  labels: ['gpu-lab', 'fast'],
  slots: 4,
  dataDir: '/var/lib/orrery agent',
  logLevel: 'info',
  command: ['/usr/bin/node', '/opt/orrery/bin/orrery-agent.js'],
};

describe('service definitions', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('builds the agent argv from the spec', () => {
    expect(agentArgv(spec)).toEqual([
      '/usr/bin/node',
      '/opt/orrery/bin/orrery-agent.js',
      '--server',
      'wss://orrery.example:7443/v1/aip',
      '--data-dir',
      '/var/lib/orrery agent',
      '--name',
      'lab-box',
      '--labels',
      'gpu-lab,fast',
      '--slots',
      '4',
      '--log-level',
      'info',
    ]);
  });

  it('renders a systemd user unit that drains on stop', () => {
    const unit = renderSystemdUnit(spec);
    expect(unit).toContain(
      'ExecStart=/usr/bin/node /opt/orrery/bin/orrery-agent.js --server wss://orrery.example:7443/v1/aip --data-dir "/var/lib/orrery agent" --name lab-box --labels gpu-lab,fast --slots 4 --log-level info',
    );
    expect(unit).toContain('KillMode=mixed');
    expect(unit).toContain('TimeoutStopSec=300');
    expect(unit).toContain('RestartPreventExitStatus=2');
    expect(unit).toContain('WantedBy=default.target');
    expect(unit).not.toContain('User=');
  });

  it('renders a systemd system unit with its account', () => {
    const unit = renderSystemdUnit({ ...spec, scope: 'system', user: 'orrery' });
    expect(unit).toContain('User=orrery');
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(renderService({ ...spec, scope: 'system' }, 'linux').path).toBe('/etc/systemd/system/orrery-agent.service');
  });

  it('escapes what systemd and sh would interpret', () => {
    expect(systemdQuote('50%')).toBe('50%%');
    expect(systemdQuote('a $HOME "b"')).toBe('"a $$HOME \\"b\\""');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('/plain/path')).toBe('/plain/path');
  });

  it('renders a launchd plist with escaped arguments', () => {
    const plist = renderLaunchdPlist({ ...spec, name: 'a&b' });
    expect(plist).toContain('<string>dev.orrery.agent</string>');
    expect(plist).toContain('<string>a&amp;b</string>');
    expect(plist).toContain('<string>/var/lib/orrery agent/agent.log</string>');
    expect(plist).toContain('<key>KeepAlive</key>');
    expect(plist).not.toContain('UserName');
    expect(renderService(spec, 'darwin', '/Users/me').path).toBe('/Users/me/Library/LaunchAgents/dev.orrery.agent.plist');
  });

  it('renders a Termux:Boot script that holds a wake lock and restarts after crashes', () => {
    const script = renderTermuxBoot(spec);
    expect(script.startsWith('#!/data/data/com.termux/files/usr/bin/sh\n')).toBe(true);
    expect(script).toContain('termux-wake-lock');
    expect(script).toContain("--data-dir '/var/lib/orrery agent'");
    expect(script).toContain('[ "$rc" -eq 2 ]');
    const file = renderService(spec, 'android', '/data/data/com.termux/files/home');
    expect(file.path).toBe('/data/data/com.termux/files/home/.termux/boot/orrery-agent');
    expect(file.mode).toBe(0o700);
  });

  it('writes the file with its mode', () => {
    const file = renderService(spec, 'android', tmp.dir);
    writeService(file);
    expect(readFileSync(path.join(tmp.dir, '.termux', 'boot', 'orrery-agent'), 'utf8')).toBe(file.text);
    expect(statSync(file.path).mode & 0o777).toBe(0o700);
  });
});
