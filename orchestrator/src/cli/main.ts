// Entry of the `orrery` command line.
import { Command, CommanderError } from 'commander';
import { registerControl } from './commands/control.js';
import { registerInspect } from './commands/inspect.js';
import { registerServer } from './commands/server.js';
import { registerSubmit } from './commands/submit.js';
import { registerAgent } from './commands/agent.js';
import { registerAdmin } from './commands/admin.js';
import { registerPlan } from './commands/plan.js';
import { registerReplan } from './commands/replan.js';
import { registerCerts } from './commands/certs.js';
import { registerArtifacts } from './commands/artifacts.js';
import { DEFAULT_SERVER } from './context.js';
import { formatError } from './format.js';

export function buildProgram(): Command {
  const program = new Command('orrery')
    .description('Orrery: run one task graph across your devices.\nDocs: README.md, docs/graph-format.md, docs/http-api.md')
    .version('0.1.0')
    .option('-s, --server <url>', `orchestrator URL (env ORRERY_SERVER, default ${DEFAULT_SERVER})`)
    .option('-t, --token <token>', 'API token (env ORRERY_TOKEN)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServer(program);
  registerAgent(program);
  registerSubmit(program);
  registerInspect(program);
  registerControl(program);
  registerPlan(program);
  registerReplan(program);
  registerAdmin(program);
  registerCerts(program);
  registerArtifacts(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`${formatError(err)}\n`);
    process.exitCode = 2;
  }
}
