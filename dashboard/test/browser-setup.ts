// Shared setup of the dashboard's browser tests: Debian's chromium, and a
// fresh production build of dashboard/dist for the orchestrator to serve.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(DASHBOARD_DIR, '..');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Fails (never skips) with a message that says what to do. */
export function requirePrerequisites(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium, or scripts/ensure-test-tools.sh)`,
    );
  }
  const cli = join(REPO_ROOT, 'orchestrator/dist/cli/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the orchestrator first (npm run build)`);
}

let built: string | undefined;

/**
 * Builds the current sources into a temp folder (once per test process) and
 * returns it, for the orchestrator's --dashboard-dir. A private folder keeps
 * test files that run in parallel from rebuilding dashboard/dist under a
 * server that is serving it.
 */
export function buildDashboard(): string {
  if (built) return built;
  const outDir = mkdtempSync(join(tmpdir(), 'orrery-dashboard-dist-'));
  const vite = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'];
  const res = spawnSync(process.execPath, args, {
    cwd: DASHBOARD_DIR,
    encoding: 'utf8',
    timeout: 120_000,
    // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (res.status !== 0) throw new Error(`vite build failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  built = outDir;
  return outDir;
}
