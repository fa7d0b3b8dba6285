// `orrery-agent install | uninstall | status` (and `orrery agent ...`):
// command-line wrappers around service-manager.ts.
import { Command, Option } from 'commander';
import type { AgentConfig } from './agent-config.js';
import type { CommonFlags } from './cli.js';
import { AgentError } from './errors.js';
import { currentServicePlatform, DEFAULT_NODE_FLAGS, type ServicePlatform } from './service.js';
import {
  formatStatus,
  installService,
  realPlanHost,
  type ServiceContext,
  serviceStatus,
  uninstallService,
} from './service-manager.js';

interface ServiceFlags {
  system?: boolean;
  platform?: ServicePlatform;
  dryRun?: boolean;
  print?: boolean;
  config?: string;
}

interface InstallFlags extends CommonFlags, ServiceFlags {
  user?: string;
  start?: boolean;
  nodeFlags?: string;
}

interface Wiring {
  addCommonOptions(cmd: Command): Command;
  flagsAsConfig(flags: CommonFlags): AgentConfig;
  onExit(code: number): void;
}

function serviceOptions(cmd: Command): Command {
  return cmd
    .option('--system', 'the system-wide service instead of the per-user one')
    .addOption(
      new Option('--platform <platform>', 'target platform (default: this one)').choices([
        'linux',
        'darwin',
        'windows',
        'android',
      ]),
    )
    .option('--dry-run', 'show exactly what would be written and run, and change nothing')
    .option('--print', 'same as --dry-run');
}

function context(flags: ServiceFlags): ServiceContext {
  const platform = flags.platform ?? currentServicePlatform();
  return {
    platform,
    scope: flags.system && platform !== 'android' ? 'system' : 'user',
    host: realPlanHost(),
    dryRun: !!(flags.dryRun || flags.print),
  };
}

async function guarded(onExit: (code: number) => void, fn: () => Promise<number>): Promise<void> {
  try {
    onExit(await fn());
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    onExit(1);
  }
}

export function addServiceCommands(cmd: Command, w: Wiring): void {
  const install = serviceOptions(w.addCommonOptions(new Command('install')))
    .description(
      'install the agent as a service that starts at boot and restarts after a crash (systemd, launchd, Task Scheduler, Termux:Boot)',
    )
    .option('--user <account>', 'with --system: the account the agent runs as')
    .option('--no-start', 'write the files but do not enable or start the service')
    .option(
      '--node-flags <flags>',
      `node/V8 flags for the service (default "${DEFAULT_NODE_FLAGS.join(' ')}"; "" for none)`,
    )
    .addHelpText(
      'after',
      "\nWrites the config file (--config, default: the platform's usual place) with the given options,\n" +
        'keeping other keys an existing file has, and a service definition that starts the agent with it.\n' +
        'The enrollment token, if given, is stored in <data-dir>/enroll-token (mode 0600).',
    )
    .action((flags: InstallFlags) =>
      guarded(w.onExit, () =>
        installService(context(flags), {
          config: w.flagsAsConfig(flags),
          ...(flags.config ? { configPath: flags.config } : {}),
          ...(flags.token ? { token: flags.token } : {}),
          ...(flags.user ? { user: flags.user } : {}),
          ...(flags.nodeFlags !== undefined ? { nodeFlags: flags.nodeFlags.split(/\s+/).filter(Boolean) } : {}),
          start: flags.start !== false,
        }),
      ),
    );
  const uninstall = serviceOptions(new Command('uninstall'))
    .description('stop, disable and remove the service (the config and data dir stay unless --purge)')
    .option('--config <file>', "the agent config file the service uses (default: the platform's usual place)")
    .option('--purge', 'also remove the config file and the data dir (credentials, undelivered results)')
    .action((flags: ServiceFlags & { purge?: boolean }) =>
      guarded(w.onExit, () =>
        uninstallService(context(flags), {
          ...(flags.config ? { configPath: flags.config } : {}),
          purge: !!flags.purge,
        }),
      ),
    );
  const status = new Command('status')
    .description(
      'is the service installed and running? pid and last exit, from the service manager and the agent itself',
    )
    .option('--system', 'the system-wide service')
    .addOption(
      new Option('--platform <platform>', 'target platform (default: this one)').choices([
        'linux',
        'darwin',
        'windows',
        'android',
      ]),
    )
    .option('--config <file>', 'the agent config file the service uses')
    .option('--json', 'machine-readable')
    .action((flags: ServiceFlags & { json?: boolean }) =>
      guarded(w.onExit, async () => {
        const s = await serviceStatus(context(flags), { ...(flags.config ? { configPath: flags.config } : {}) });
        process.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
        // LSB convention: 0 running, 3 not running.
        return s.running ? 0 : 3;
      }),
    );
  cmd.addCommand(install);
  cmd.addCommand(uninstall);
  cmd.addCommand(status);
}
