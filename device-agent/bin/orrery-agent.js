#!/usr/bin/env node
// Orrery device agent. See device-agent/README.md.
import { runAgentCli } from '../dist/cli.js';

const code = await runAgentCli(process.argv.slice(2));
process.exit(code);
