// Runs one bench module and prints its figures as the last line of stdout.
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/single.ts <file.bench.ts>');
const module = (await import(pathToFileURL(file).href)) as { default: () => Promise<Record<string, number>> };
const figures = await module.default();
process.stdout.write(`\n${JSON.stringify(figures)}\n`);
process.exit(0);
