// Entry of the single-file bundle (scripts/bundle.mjs): the same CLI as
// bin/orrery-agent.js.
import { runAgentCli } from './cli.js';

const code = await runAgentCli(process.argv.slice(2));
process.exit(code);
