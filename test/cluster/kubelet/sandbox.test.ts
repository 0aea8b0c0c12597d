import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxDirectory, detectSandboxSupport, spawnSandboxed, type SandboxSpec, type SandboxSupport } from '../../../src/cluster/kubelet/sandbox/index.ts';

let work: string;
let support: SandboxSupport;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'formicary-sandbox-test-'));
  chmodSync(work, 0o755);
  support = detectSandboxSupport({ unsafeLocalShell: false, runtimeDir: join(work, 'runtime') });
  if (support.mode !== 'bubblewrap') throw new Error(`these tests need bubblewrap as root: ${JSON.stringify(support)}`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function spec(argv: string[], extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { argv, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp' }, hostname: 'web-1', mounts: [], ...extra };
}

async function run(argv: string[], extra: Partial<SandboxSpec> = {}): Promise<{ stdout: string; stderr: string; exitCode: number; oomKilled: boolean }> {
  const process = await spawnSandboxed(spec(argv, extra), support);
  let stdout = '';
  let stderr = '';
  process.onOutput((stream, data) => {
    if (stream === 'stdout') stdout += data.toString();
    else stderr += data.toString();
  });
  process.endInput();
  const exit = await process.exited;
  return { stdout, stderr, exitCode: exit.exitCode, oomKilled: exit.oomKilled };
}

describe('a sandboxed container process', () => {
  it('runs a shell command and reports its output and exit code truthfully', async () => {
    const result = await run(['/bin/sh', '-c', 'echo hello from $(hostname); echo oops >&2; exit 3']);
    expect(result.stdout).toBe('hello from web-1\n');
    expect(result.stderr).toBe('oops\n');
    expect(result.exitCode).toBe(3);
  });

  it('sees only the environment it was given, as an unprivileged user', async () => {
    const result = await run(['/bin/sh', '-c', 'id -u; id -un; echo "$GREETING"; env | sort | cut -d= -f1 | tr "\\n" " "'], {
      env: { PATH: '/usr/bin:/bin', GREETING: 'hi' },
    });
    expect(result.stdout.split('\n').slice(0, 3)).toEqual(['1000', 'learner', 'hi']);
    expect(result.stdout).not.toContain('HOME');
  });

  it("cannot read the host's files, the data dir or another sandbox's files", async () => {
    const dataDir = join(work, 'data');
    createSandboxDirectory(dataDir);
    writeFileSync(join(dataDir, 'store.log'), 'secret state');
    const otherVolume = join(work, 'other-pod-volume');
    createSandboxDirectory(otherVolume);
    writeFileSync(join(otherVolume, 'token'), 'other learner');
    const result = await run([
      '/bin/sh',
      '-c',
      `for f in ${dataDir}/store.log ${otherVolume}/token /etc/shadow; do cat "$f" >/dev/null 2>&1 && echo "READ $f"; done; ` +
        `for d in ${work} /root /work /home /var/lib; do ls "$d" >/dev/null 2>&1 && echo "LISTED $d"; done; echo done`,
    ]);
    expect(result.stdout).toBe('done\n');
  });

  it('cannot see or signal processes outside it', async () => {
    const result = await run(['/bin/sh', '-c', `ls /proc | grep -c '^[0-9]'; kill -0 ${process.pid} 2>/dev/null && echo SIGNALLED; echo checked`]);
    const [count, last] = result.stdout.trim().split('\n');
    expect(Number(count)).toBeLessThanOrEqual(4);
    expect(last).toBe('checked');
  });

  it('has no network to the host', async () => {
    const server = createTcpServer((socket) => socket.end('host service\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await run(['/bin/sh', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port} 2>/dev/null && echo CONNECTED || echo refused`].map((part, index) => (index === 0 ? '/bin/bash' : part)));
      expect(result.stdout).toBe('refused\n');
    } finally {
      server.close();
    }
  });

  it('reaches a forwarded Unix socket as 127.0.0.1:port (how the workbench reaches the API server)', async () => {
    const socketDir = join(work, 'sockets');
    createSandboxDirectory(socketDir);
    chmodSync(socketDir, 0o755);
    const socket = join(socketDir, 'api.sock');
    const server = createHttpServer((_request, response) => response.end('api answered\n'));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    chmodSync(socket, 0o666);
    try {
      const result = await run(['/bin/sh', '-c', 'curl -s http://127.0.0.1:6443/version'], { forwards: [{ port: 6443, unixSocket: socket }] });
      expect(result.stdout).toBe('api answered\n');
    } finally {
      server.close();
    }
  });

  it('gets its volumes at their mount paths, read-only where asked, even inside /etc', async () => {
    const config = join(work, 'config-volume');
    createSandboxDirectory(config);
    writeFileSync(join(config, 'app.properties'), 'color=blue\n');
    chmodSync(config, 0o755);
    chmodSync(join(config, 'app.properties'), 0o644);
    const scratch = join(work, 'scratch-volume');
    createSandboxDirectory(scratch);
    const result = await run(['/bin/sh', '-c', 'cat /etc/config/app.properties; echo x > /etc/config/new 2>/dev/null || echo read-only; echo data > /scratch/file && cat /scratch/file; test -f /etc/hostname && echo etc-intact'], {
      mounts: [
        { source: config, target: '/etc/config', readOnly: true },
        { source: scratch, target: '/scratch', readOnly: false },
      ],
    });
    expect(result.stdout).toBe('color=blue\nread-only\ndata\netc-intact\n');
  });

  it('is OOM-killed when it passes its memory limit', async () => {
    const result = await run(['/bin/sh', '-c', 'awk \'BEGIN { s = "x"; while (1) s = s s }\''], { limits: { memoryBytes: 32 * 1024 * 1024 } });
    expect(result.oomKilled).toBe(true);
    expect(result.exitCode).toBe(137);
  });

  it('is killed with everything it started', async () => {
    const sandboxed = await spawnSandboxed(spec(['/bin/sh', '-c', 'sleep 300 & sleep 300 & echo started; wait']), support);
    let output = '';
    sandboxed.onOutput((_stream, data) => (output += data.toString()));
    for (let i = 0; i < 100 && !output.includes('started'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    sandboxed.kill('SIGKILL');
    const exit = await sandboxed.exited;
    expect(exit.exitCode).not.toBe(0);
    const { execSync } = await import('node:child_process');
    const leftovers = execSync('ps -eo user:20,args | grep "^nobody .*sleep 300" | grep -v grep || true', { encoding: 'utf8' });
    expect(leftovers).toBe('');
  });

  it('runs an interactive shell on a terminal that honours resize', async () => {
    const shell = await spawnSandboxed(spec(['/bin/bash', '--norc', '-i'], { tty: { cols: 100, rows: 30 }, env: { PATH: '/usr/bin:/bin', TERM: 'xterm', PS1: '$ ' } }), support);
    let screen = '';
    shell.onOutput((_stream, data) => (screen += data.toString()));
    shell.write('stty size\r');
    for (let i = 0; i < 100 && !screen.includes('30 100'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    shell.resize(120, 40);
    shell.write('stty size; exit 7\r');
    const exit = await shell.exited;
    expect(screen).toContain('30 100');
    expect(screen).toContain('40 120');
    expect(exit.exitCode).toBe(7);
  });
});
