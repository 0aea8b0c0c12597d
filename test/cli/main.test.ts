import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/formicary.js', import.meta.url));
const run = (args: string[], node = process.execPath) => spawnSync(node, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });

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

  it.skipIf(!existsSync('/usr/bin/node') || spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).stdout.startsWith('v24'))(
    'says in one line that it needs Node 24 when started by an older Node',
    () => {
      const result = run(['--help'], '/usr/bin/node');
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/needs Node\.js 24 or newer; this is Node\.js v?\d+/);
    },
  );
});
