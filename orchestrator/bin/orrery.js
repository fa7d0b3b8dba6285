#!/usr/bin/env node
// The `orrery` command. Runs the compiled CLI; build first with `npm run build`.
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
