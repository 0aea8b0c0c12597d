// The portal under a flood of bad requests, as `npm start` runs it (node src/server/main.ts, a child
// process; the lab cluster is not what is measured, so LAB_CLUSTER=kubernetes names one nobody
// serves): 100 connections at once, each sending a 10 MB body nobody asked for (half declared by
// Content-Length, half chunked; JSON, forms and garbage; to the sign-in API, a lab API route, a page
// and a route beside Astro), three waves. `portal_rss_mb_bad_bodies` is the portal's highest RSS
// meanwhile (goal ≤ 400 MB, no crash); `portal_rss_mb_idle` is before the flood.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { round } from './stats.ts';

const CONNECTIONS = 100;
const BODY_BYTES = 10 * 1024 * 1024;
const WAVES = 3;
const TARGETS = ['/api/session', '/api/labs/configmaps-and-secrets/check', '/signin', '/api/workshops', '/paths/kubernetes-foundations'];
const TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream'];

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: nobody, user: {token: none}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
current-context: nowhere
`;

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Sends one bad body as fast as the portal reads it; resolves with the status it answered (0: none). */
function badBody(url: URL, target: string, chunked: boolean, type: string): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, '{"name":"x",');
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let sent = 0;
    let answer = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0));
    };
    socket.on('data', (data: Buffer) => {
      answer += data.toString('latin1');
      if (answer.includes('\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.once('connect', () => {
      const length = chunked ? 'transfer-encoding: chunked' : `content-length: ${BODY_BYTES}`;
      socket.write(`POST ${target} HTTP/1.1\r\nhost: ${url.host}\r\norigin: https://elsewhere.example\r\ncontent-type: ${type}\r\n${length}\r\n\r\n`);
      const pump = () => {
        while (!done && answer === '' && sent < BODY_BYTES) {
          sent += piece.length;
          const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
          if (!socket.write(frame)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
  });
}

export default async function bench(): Promise<Record<string, number>> {
  const root = join(import.meta.dirname, '..');
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-portal-'));
  await writeFile(join(dir, 'kubeconfig'), KUBECONFIG);
  const child = spawn(process.execPath, [join(root, 'src', 'server', 'main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info', AUTH: 'dev', LAB_CLUSTER: 'kubernetes', KUBECONFIG: join(dir, 'kubeconfig') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let crashed = false;
  child.once('exit', () => (crashed = true));
  try {
    const started = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the portal did not listen within 120 s')), 120_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.includes('portal listening')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      });
    });
    const url = new URL(started);
    // Warm the pages and routes the flood will hit, so their first load is not counted as the flood's.
    for (const target of TARGETS) await fetch(new URL(target, url)).catch(() => undefined);
    const idle = await rssMb(child.pid!);

    let peak = idle;
    const sampler = setInterval(() => void rssMb(child.pid!).then((mb) => (peak = Math.max(peak, mb))), 20);
    const statuses: number[] = [];
    for (let wave = 0; wave < WAVES; wave += 1) {
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: CONNECTIONS }, (_, i) => badBody(url, TARGETS[i % TARGETS.length]!, i % 2 === 1, TYPES[i % TYPES.length]!)),
        )),
      );
    }
    clearInterval(sampler);
    peak = Math.max(peak, await rssMb(child.pid!));
    const healthy = !crashed && (await fetch(new URL('/api/health', url)).then((r) => r.status, () => 0)) === 200;
    const answers = new Map<number, number>();
    for (const status of statuses) answers.set(status, (answers.get(status) ?? 0) + 1);
    process.stderr.write(`bench: the portal's answers to ${statuses.length} bad bodies (status: count, 0 = none): ${JSON.stringify(Object.fromEntries(answers))}; healthy after: ${healthy}\n`);
    return {
      portal_rss_mb_idle: round(idle, 0),
      portal_rss_mb_bad_bodies: round(peak, 0),
      portal_bad_bodies_refused: statuses.filter((status) => status >= 400 && status < 500).length,
      portal_bad_bodies_survived: healthy ? 1 : 0,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (crashed ? resolve(undefined) : child.once('exit', resolve)));
    await rm(dir, { recursive: true, force: true });
  }
}
