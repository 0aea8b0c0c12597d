#!/usr/bin/env node
// The installed `formicary` command. Our TypeScript runs on Node's type stripping, which needs Node 24.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`formicary needs Node.js 24 or newer; this is Node.js ${process.versions.node}. Install Node 24 and run it again.\n`);
  process.exit(1);
}
// Caches Node's TypeScript stripping and compilation across runs: most of a cold start otherwise.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
