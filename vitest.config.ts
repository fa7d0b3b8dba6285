import { defineConfig } from 'vitest/config';

// One run over every package. Integration tests start real processes from
// the built dist/, so `npm test` builds first.
export default defineConfig({
  test: {
    include: ['{protocol,orchestrator,device-agent,dashboard,scripts}/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
