import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/formicary.js', import.meta.url));
const run = (args: string[], node = process.execPath, script = bin) => spawnSync(node, [script, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('formicary', () => {
  it('lists its commands with --help, cluster and content check among them', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('formicary cluster');
    expect(result.stdout).toContain('formicary content check');
  });

  it('exits 2 with the usage for no command and for an unknown one', () => {
    expect(run([]).status).toBe(2);
    const unknown = run(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('usage: formicary');
  });

  it('refuses bad cluster options with a line that names the option', () => {
    const result = run(['cluster', '--port', 'eighty']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--port');
    const unknownOption = run(['cluster', '--colour']);
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toContain("'--colour'");
  });

  const olderNode = existsSync('/usr/bin/node') && !spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).stdout.startsWith('v24');

  it.skipIf(!olderNode)('started by an older Node, runs on the Node 24 that npm install brought', () => {
    const result = run(['--help'], '/usr/bin/node');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('formicary content check');
  });

  it.skipIf(!olderNode)('says in one line that it needs Node 24 when an older Node starts it and none came with npm install', () => {
    // The command alone, without the project's node_modules beside it.
    const alone = mkdtempSync(path.join(tmpdir(), 'formicary-bin-'));
    mkdirSync(path.join(alone, 'bin'));
    copyFileSync(bin, path.join(alone, 'bin', 'formicary.js'));
    writeFileSync(path.join(alone, 'package.json'), '{"type":"module"}');
    const result = run(['--help'], '/usr/bin/node', path.join(alone, 'bin', 'formicary.js'));
    rmSync(alone, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`, and no Node 24 came with npm install for ${process.platform}-${process.arch}`);
    expect(result.stderr).toMatch(/^formicary needs Node\.js 24 or newer; this is Node\.js v?\d+/);
  });
});
