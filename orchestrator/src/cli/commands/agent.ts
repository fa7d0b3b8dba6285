// `orrery agent ...`: the device agent, delegated to @orrery/device-agent so
// it can also be installed alone (`orrery-agent`).
import type { Command } from 'commander';

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('Run a device agent (see `orrery agent --help`); `orrery agent install` sets it up as a service')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]')
    .action(async (_args: string[], _opts: unknown, cmd: Command) => {
      // Hand the agent its own argv untouched, so its help and options stay its own.
      const idx = process.argv.indexOf('agent');
      const rest = idx >= 0 ? process.argv.slice(idx + 1) : cmd.args;
      // Loaded on demand: the server and client commands never pay for the agent's modules.
      const { runAgentCli } = (await import('@orrery/device-agent')) as unknown as {
        runAgentCli(argv: string[]): Promise<number>;
      };
      process.exitCode = await runAgentCli(rest);
    });
}
