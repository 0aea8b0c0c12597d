// The `formicary` command. `formicary <words…> [options]` runs the module src/cli/<words
// joined by "-">.ts, which exports `run<Words>(args)` resolving to the exit code:
//   formicary cluster        → cluster.ts        runCluster
//   formicary content check  → content-check.ts  runContentCheck
//   formicary labs test      → labs-test.ts      runLabsTest
// A new command is a new module; this file does not change.
import { existsSync, readdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type CommandRunner = (args: string[]) => Promise<number> | number;

// Caches Node's TypeScript stripping and compilation across runs (the commands load lazily, after this).
enableCompileCache();

const here = dirname(fileURLToPath(import.meta.url));

function runnerName(words: string[]): string {
  return `run${words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')}`;
}

function availableCommands(): string[] {
  return readdirSync(here)
    .filter((file) => file.endsWith('.ts') && file !== 'main.ts' && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length).split('-').join(' '))
    .sort();
}

function usage(): string {
  return ['usage: formicary <command> [options]', '', 'commands:', ...availableCommands().map((command) => `  formicary ${command}`), '', 'Run a command with --help for its options.', ''].join('\n');
}

/** The longest run of leading words that names a module: `labs test x` → labs-test.ts with args [x]. */
function resolveCommand(argv: string[]): { file: string; words: string[]; args: string[] } | undefined {
  const firstOption = argv.findIndex((arg) => arg.startsWith('-'));
  const words = (firstOption < 0 ? argv : argv.slice(0, firstOption)).filter((word) => /^[a-z][a-z0-9]*$/.test(word));
  for (let count = Math.min(words.length, 3); count >= 1; count--) {
    const chosen = words.slice(0, count);
    const file = join(here, `${chosen.join('-')}.ts`);
    if (existsSync(file)) return { file, words: chosen, args: argv.slice(count) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const command = resolveCommand(argv);
  if (!command) {
    process.stderr.write(`formicary: unknown command "${argv.filter((arg) => !arg.startsWith('-')).slice(0, 2).join(' ')}"\n${usage()}`);
    return 2;
  }
  const module = (await import(pathToFileURL(command.file).href)) as Record<string, unknown>;
  const run = module[runnerName(command.words)];
  if (typeof run !== 'function') {
    process.stderr.write(`formicary: ${command.file} does not export ${runnerName(command.words)}(args)\n`);
    return 70;
  }
  return await (run as CommandRunner)(command.args);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`formicary: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
