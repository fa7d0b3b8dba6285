// Loads orchestrator/src/store without building the whole orchestrator: the
// store's .ts files are transpiled one by one (they use only erasable syntax
// and explicit .js imports) into a temp folder whose node_modules links back
// to the repository's. Used by the journal benchmark and by store tests that
// need the store inside a child process.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const storeSrc = join(repoRoot, 'orchestrator', 'src', 'store');

/** Transpile (cached by content) and return the path of the built index.js. */
export function buildStore() {
  const files = readdirSync(storeSrc).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
  // Keyed by checkout too: the build links to this checkout's node_modules.
  const hash = createHash('sha256').update(repoRoot);
  for (const file of files) hash.update(file).update(readFileSync(join(storeSrc, file)));
  const outRoot = join(tmpdir(), `orrery-store-${hash.digest('hex').slice(0, 16)}`);
  const index = join(outRoot, 'store', 'index.js');
  // existsSync follows the link: a checkout reinstalled or removed since leaves it dangling.
  if (existsSync(index) && existsSync(join(outRoot, 'node_modules'))) return index;
  rmSync(outRoot, { recursive: true, force: true });
  // Build beside, then rename: concurrent builders never see a half-written folder.
  const staging = `${outRoot}.${process.pid}.${Date.now()}`;
  mkdirSync(join(staging, 'store'), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(staging, 'node_modules'), 'dir');
  for (const file of files) {
    const source = readFileSync(join(storeSrc, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    });
    writeFileSync(join(staging, 'store', file.replace(/\.ts$/, '.js')), outputText);
  }
  writeFileSync(join(staging, 'package.json'), '{"type":"module"}\n');
  try {
    renameSync(staging, outRoot);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process won the race
  }
  return index;
}

export async function loadStore() {
  return import(pathToFileURL(buildStore()).href);
}
