// A `formicary cluster` child process, as the portal runs it: the figures measured against it
// include the HTTP hop and a separate event loop, as a portal and its lab cluster have.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';

export async function startClusterProcess(dir: string, args: string[] = []): Promise<{ kubeConfig: KubeConfig; pid: number; stop(): Promise<void> }> {
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'cli', 'main.ts'), 'cluster', '--kubeconfig', kubeconfig, '--data', join(dir, 'cluster'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the cluster did not get ready within 60 s')), 60_000);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (/\bready\b/i.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    child.once('exit', (code) => reject(new Error(`the cluster exited with ${code}`)));
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  return {
    kubeConfig,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
