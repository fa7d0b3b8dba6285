#!/usr/bin/env node
// Builds the agent as ONE JavaScript file with no native dependencies:
// dist-bundle/orrery-agent.mjs (ESM, target node18), runnable on any
// Node 18+ on arm64 or x86_64 with `node orrery-agent.mjs ...`.
// - aip.proto is inlined (no file to find at run time);
// - what an idle agent does not need stays lazy inside the file (gRPC only
//   for grpc:// URLs, pino-pretty only on a terminal, the YAML parser only for
//   a YAML config, the MCP SDK only for mcp tasks);
// - ws's optional native add-ons (bufferutil, utf-8-validate) are left out:
//   ws falls back to JavaScript when they are missing.
// Minified by default (the source text stays in memory: 1.2 MB instead of 2.6 MB);
// --no-minify for a readable file.
// Usage: node device-agent/scripts/bundle.mjs [--outfile path] [--no-minify]
import { chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--outfile');
const outfile = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.join(pkg, 'dist-bundle', 'orrery-agent.mjs');
const proto = readFileSync(path.resolve(pkg, '..', 'proto', 'aip.proto'), 'utf8');

const result = await build({
  entryPoints: [path.join(pkg, 'src', 'bundle-entry.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  minify: !args.includes('--no-minify'),
  // Readable names in stack traces even when minified.
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  // Optional native add-ons of ws: absent = pure-JS fallback. Never bundle or require them.
  external: ['bufferutil', 'utf-8-validate'],
  define: {
    __ORRERY_AIP_PROTO__: JSON.stringify(proto),
    __ORRERY_AGENT_BUNDLE__: 'true',
    'process.env.WS_NO_BUFFER_UTIL': '"1"',
    'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
  },
  // CommonJS dependencies call require() for node built-ins; give the ESM file one.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __orreryCreateRequire } from 'node:module';",
      'const require = __orreryCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
const inputs = Object.keys(result.metafile.inputs);
const native = inputs.filter((f) => f.endsWith('.node'));
if (native.length > 0) throw new Error(`native modules in the bundle: ${native.join(', ')}`);
console.log(`${path.relative(process.cwd(), outfile)}: ${(statSync(outfile).size / 1024).toFixed(0)} KiB from ${inputs.length} modules`);
