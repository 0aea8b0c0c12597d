// Sandboxes at company scale: one reaper pass over 5,000 sandboxes (namespaces labelled as the
// portal labels them) on a `formicary cluster` child process, with 10% of them due (expired or
// idle, as after a large workshop ends), and the same pass when none is due (what the elected
// replica pays every 30 s). Only the namespaces exist: the reaper reads and deletes namespaces,
// never what is inside them.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabCatalog } from '../src/labs/index.ts';
import { KubeClient } from '../src/labs/kube/index.ts';
import { Sandboxes, learnerLabel } from '../src/server/sandboxes/index.ts';
import { startClusterProcess } from './cluster-process.ts';
import { round } from './stats.ts';

const SANDBOXES = 5_000;
const DUE_EVERY = 10;
const CREATE_CONCURRENCY = 16;

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-sandboxes-'));
  await chmod(dir, 0o711);
  const cluster = await startClusterProcess(dir);
  try {
    const client = new KubeClient(cluster.kubeConfig);
    const now = Math.floor(Date.now() / 1000);
    let next = 0;
    const create = async () => {
      while (next < SANDBOXES) {
        const i = next++;
        const learner = `learner-${i}@example.com`;
        const due = i % DUE_EVERY === 0;
        await client.api.request('POST', '/api/v1/namespaces', {
          body: {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: {
              name: `lab-${learnerLabel(learner).slice(0, 6)}-b${i.toString(36).padStart(4, '0')}`,
              labels: {
                'formicary.dev/lab': 'deploy-and-expose',
                'formicary.dev/lab-digest': 'bench',
                'formicary.dev/learner': learnerLabel(learner),
                'formicary.dev/ready': 'true',
                'formicary.dev/expires': String(due ? now - 60 : now + 3600),
                'app.kubernetes.io/managed-by': 'formicary',
              },
              annotations: { 'formicary.dev/learner-id': learner, 'formicary.dev/created': String(now - 600), 'formicary.dev/last-activity': String(now - 60) },
            },
          },
        });
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, create));

    const sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog: new LabCatalog(join(import.meta.dirname, '..', 'labs')) });
    let started = performance.now();
    const reaped = await sandboxes.reap();
    const dueMs = performance.now() - started;
    if (reaped.length !== SANDBOXES / DUE_EVERY) throw new Error(`the reaper deleted ${reaped.length} sandboxes, not ${SANDBOXES / DUE_EVERY}`);
    started = performance.now();
    const again = await sandboxes.reap();
    const idleMs = performance.now() - started;
    if (again.length !== 0) throw new Error(`the second pass deleted ${again.length} sandboxes`);
    return { reaper_ms_5000_sandboxes: round(dueMs, 0), reaper_ms_5000_sandboxes_none_due: round(idleMs, 0) };
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
