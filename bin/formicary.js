#!/usr/bin/env node
// The installed `formicary` command. Our TypeScript runs on Node's type stripping, which needs
// Node 24. `npm install` brings Node 24 along (the optional dependency node-linux-<arch>); when an
// older Node runs this file, the command starts again on that one.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  const bundled = fileURLToPath(new URL(`../node_modules/node-${process.platform}-${process.arch}/bin/node`, import.meta.url));
  if (!existsSync(bundled)) {
    process.stderr.write(`formicary needs Node.js 24 or newer; this is Node.js ${process.versions.node}, and no Node 24 came with npm install for ${process.platform}-${process.arch}. Install Node 24 and run it again.\n`);
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)));
} else {
  // Caches Node's TypeScript stripping and compilation across runs: most of a cold start otherwise.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
