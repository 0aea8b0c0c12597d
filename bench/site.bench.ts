// The portal foundation's figures: how long the site takes to build, how fast a lesson page's
// first byte comes back through the real portal (200 requests, a signed-in learner), how much
// CPU one such request costs (portal and client share this process; unlike wall time, CPU time
// hardly moves with other work on the machine), and how much JavaScript a lesson without a lab
// ships (gzip, every script the page loads).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseConfig } from '../src/server/config.ts';
import { createLogger } from '../src/server/log.ts';
import { startPortal } from '../src/server/main.ts';
import { percentile, round } from './stats.ts';

const ROOT = join(import.meta.dirname, '..');
// A lesson without a lab (lesson ids drop the NN- order prefix).
const LESSON = '/paths/kubernetes-foundations/clusters-and-the-api';

function ttfb(url: string, cookie: string): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { headers: { cookie } }, (res) => {
      const ms = performance.now() - started;
      res.resume();
      res.on('end', () => resolve({ ms, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

export default async function siteBench(): Promise<Record<string, number>> {
  const buildStarted = performance.now();
  const build = spawnSync('npx', ['astro', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error(`astro build failed with exit ${build.status}`);
  const buildSeconds = (performance.now() - buildStarted) / 1000;

  const dataDir = mkdtempSync(join(tmpdir(), 'formicary-site-bench-'));
  const config = { ...parseConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' }, ROOT), sessionSecret: 'b'.repeat(32) };
  const portal = await startPortal(config, { log: createLogger({ level: 'silent' }) });
  try {
    const { token } = await portal.services.sessions.signIn('Bench Learner');
    const cookie = `formicary_session=${token}`;
    const lessonUrl = `${portal.url}${LESSON}`;
    for (let i = 0; i < 20; i++) await ttfb(lessonUrl, cookie);
    const samples: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < 200; i++) {
      const { ms, status } = await ttfb(lessonUrl, cookie);
      if (status !== 200) throw new Error(`${LESSON} answered ${status}`);
      samples.push(ms);
    }
    const cpu = process.cpuUsage(cpuBefore);

    const html = await (await fetch(lessonUrl, { headers: { cookie } })).text();
    let jsBytes = 0;
    const counted = new Set<string>();
    // A script file counts with every module it imports statically (they load with the page).
    const countFile = (path: string) => {
      if (counted.has(path)) return;
      counted.add(path);
      const body = readFileSync(join(ROOT, 'dist', 'client', path));
      jsBytes += gzipSync(body).length;
      for (const match of body.toString('utf8').matchAll(/(?:\bimport|\bfrom)\s*["']([^"']+\.js)["']/g)) {
        const target = match[1]!;
        countFile(target.startsWith('/') ? target : join(path, '..', target));
      }
    };
    for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      const attributes = match[1] ?? '';
      if (/type="application\/(ld\+)?json"/.test(attributes)) continue;
      const src = /\bsrc="([^"]+)"/.exec(attributes)?.[1];
      if (src) countFile(src.split('?')[0]!);
      else jsBytes += gzipSync(Buffer.from(match[2] ?? '')).length;
    }
    for (const match of html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) countFile(match[1]!);
    return {
      build_s: round(buildSeconds, 1),
      lesson_ttfb_ms_p50: percentile(samples, 50),
      lesson_ttfb_ms_p95: percentile(samples, 95),
      lesson_cpu_ms_per_request: round((cpu.user + cpu.system) / 1000 / samples.length),
      lesson_js_kb_gz: round(jsBytes / 1024, 1),
    };
  } finally {
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
