// The kubelet finds the host's tools as `command -v` does: the first executable file of that name
// in PATH's order; a file without the execute bit, a directory or a relative PATH entry is passed by.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../../src/cluster/kubelet/host-tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'formicary-host-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tool(folder: string, name: string, mode: number): string {
  mkdirSync(join(dir, folder), { recursive: true });
  const path = join(dir, folder, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, mode);
  return path;
}

describe('findExecutable', () => {
  it('answers what command -v answers for the host\'s own tools', () => {
    for (const name of ['sh', 'ls', 'no-such-tool-here']) {
      const shell = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      expect(findExecutable(name, '/usr/sbin:/usr/bin:/sbin:/bin')).toBe(shell.status === 0 ? shell.stdout.trim() : null);
    }
  });

  it('takes the first executable file in PATH order and passes by the rest', () => {
    tool('plain', 'probe', 0o644);
    mkdirSync(join(dir, 'folder', 'probe'), { recursive: true });
    const second = tool('second', 'probe', 0o755);
    tool('third', 'probe', 0o755);
    expect(findExecutable('probe', ['relative', join(dir, 'plain'), join(dir, 'folder'), join(dir, 'second'), join(dir, 'third')].join(':'))).toBe(second);
    expect(findExecutable('probe', join(dir, 'plain'))).toBeNull();
    expect(findExecutable('probe', '')).toBeNull();
  });
});
