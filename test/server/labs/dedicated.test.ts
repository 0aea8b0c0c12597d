// A lab with `needs: cluster` through the portal's lab runtime, below HTTP: Start gives the learner
// a `formicary cluster` process of their own, the terminal bridge opens their shell there, Check
// reads that cluster, End stops the process. A real lab cluster, real learners' clusters, a real
// database.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessions } from '../../../src/server/auth/index.ts';
import { startDedicatedClusters, startLabCluster, type DedicatedClusters, type LabCluster } from '../../../src/server/cluster/index.ts';
import { applyMigrations, openDatabase, readMigrations } from '../../../src/server/db/index.ts';
import { startLabs, type LabStateView } from '../../../src/server/labs/index.ts';
import type { TerminalClient } from '../../../src/server/terminals/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';
import { writeLab } from '../../labs/fixtures.ts';
import { useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();
const PROJECT_ROOT = path.join(import.meta.dirname, '..', '..', '..');
const LAB = 'own-nodes';

let labCluster: TestCluster;
let cluster: LabCluster;
let root: string;
let host: DedicatedClusters;

beforeAll(async () => {
  labCluster = await startTestCluster();
  root = await mkdtemp(path.join(tmpdir(), 'formicary-dedicated-labs-'));
  await writeLab(path.join(root, 'labs'), LAB, {
    'lab.yaml': `title: Own nodes
summary: For tests.
duration: 5
needs: cluster
steps:
  - id: cordon
    title: Cordon node-2
    instructions: Cordon node-2.
    checks:
      - kind: field
        resource: nodes
        name: node-2
        path: '{.spec.unschedulable}'
        equals: true
        message: node-2 still takes new pods; cordon it.
    solution:
      - kubectl cordon node-2
`,
  });
  const kubeconfig = path.join(labCluster.dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, labCluster.cluster.kubeconfig(), { mode: 0o600 });
  cluster = startLabCluster({ mode: 'kubernetes', kubeconfig }, { root, log });
  host = await startDedicatedClusters({ dir: path.join(labCluster.dir, 'dedicated'), root: PROJECT_ROOT, hiddenPaths: [labCluster.dir], limit: 2, log });
}, 60_000);

afterAll(async () => {
  await labCluster?.stop();
  await rm(root, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function processesNaming(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (command.split('\0').includes(text)) found.push(Number(entry));
  }
  return found;
}

describe('a dedicated-cluster lab in the portal', () => {
  it('starts the learner’s own cluster, opens their terminal there, checks it, and End stops its process', async () => {
    const db = openDatabase(await databases.fresh('sqlite'), log);
    await applyMigrations(db, await readMigrations('sqlite'));
    const ada = (await createSessions(db).signIn('Ada')).learner;
    const tracking = createTracking(db, { outlines: fixedOutlines([]) });
    const labs = startLabs({ root, cluster, records: tracking.labs, log, dedicatedClusters: host });
    try {
      await labs.sessions.start(ada, LAB, { lessons: [] });
      const state = await until<LabStateView>('the lab to be ready', async () => {
        const current = await labs.sessions.state(ada, LAB);
        if (current.session?.status === 'failed') throw new Error(`the lab failed to start: ${current.session.detail}`);
        return current.session?.status === 'ready' ? current : null;
      });
      const namespace = state.session?.namespace as string;
      const dataDir = path.join(labCluster.dir, 'dedicated', namespace);
      expect(await processesNaming(dataDir)).toHaveLength(1);

      const before = await labs.sessions.check(ada, LAB);
      expect(before.passed).toBe(false);
      expect(before.results[0]?.message).toBe('node-2 still takes new pods; cordon it.');

      const access = await labs.sessions.authorizeTerminal(ada, LAB, null);
      if (!access.allowed) throw new Error(`terminal refused: ${access.message}`);
      let printed = '';
      const tab: TerminalClient = {
        send(message) {
          if (message.type === 'output' || message.type === 'replay') printed += message.data;
        },
        close: () => undefined,
        bufferedAmount: 0,
      };
      const terminal = labs.bridge.attach(access.labSession, access.target, tab, { size: { cols: 160, rows: 40 } });
      terminal.input(tab, `kubectl cordon node-2 && kubectl get nodes node-2 --no-headers; echo "END-$((40+2))"\r`);
      await until('the command to finish', async () => printed.includes('END-42'), 30_000);
      expect(printed).toContain('node/node-2 cordoned');
      expect(printed).toMatch(/node-2\s+Ready,SchedulingDisabled/);
      // The lab cluster's own node-2 is untouched: the learner's rights end at their cluster.
      expect((await labCluster.client.get(await labCluster.client.resolve('nodes'), '', 'node-2'))?.spec?.['unschedulable']).toBeUndefined();

      const after = await labs.sessions.check(ada, LAB);
      expect(after).toMatchObject({ passed: true, completed: true });

      await labs.sessions.end(ada, LAB);
      expect(await processesNaming(dataDir)).toEqual([]);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      labs.bridge.shutdown();
      await labs.stop();
      await db.close();
    }
  }, 180_000);
});
