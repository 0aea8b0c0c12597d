// The cross-sandbox matrix: five learners, each with a real sandbox started through the portal and
// a terminal opened through the portal's WebSocket, each trying every other's namespace (kubectl in
// its workbench, with its own token), files (other homes, /proc, the portal's and the cluster's data
// dirs), processes (ps, kill), Services (by name and by IP through the service network) and
// terminals (the other's lab session through the portal). Every attempt is refused; each learner's
// own namespace, Service and shell work, so the refusals mean something.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/server/config.ts';
import { startPortal, type Portal } from '../../src/server/main.ts';
import { captureLogs } from '../support/logs.ts';
import { PortalLearner, type LearnerTerminal } from './portal-learner.ts';
import { pidsRunning } from '../support/processes.ts';

const LAB = 'configmaps-and-secrets';
const NAMES = ['Ada', 'Grace', 'Linus', 'Margaret', 'Barbara'];
/** Where a workbench's processes may write (its home among them), searched for secrets. */
const WRITABLE_PLACES = '~ /tmp /home /root /var /run /mnt /srv /opt /data /workspace';

interface Seat {
  learner: PortalLearner;
  session: string;
  namespace: string;
  terminal: LearnerTerminal;
  /** Written to ~/secret.txt in the learner's workbench; nobody else may read it. */
  secret: string;
  /** `sleep <n>` runs in the learner's workbench: a process nobody else may see or kill. */
  sleeper: number;
  sleeperPid: number;
  /** Where ~/secret.txt is on the machine (the kubelet's pod directory). */
  secretPath: string;
  serviceIp: string;
  podIp: string;
}


/** Files named `name` holding `content`, below `dir` (bounded depth; the kubelet's pod directories). */
function findFile(dir: string, name: string, content: string, depth = 12): string[] {
  if (depth === 0) return [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry);
    try {
      const info = statSync(full);
      if (info.isDirectory()) found.push(...findFile(full, name, content, depth - 1));
      else if (entry === name && readFileSync(full, 'utf8').trim() === content) found.push(full);
    } catch {
      // Unreadable or gone: not it.
    }
  }
  return found;
}

/** Lines `tag|…` a script printed, split on `|`. */
function rows(output: string, tag: string): string[][] {
  return output
    .split(/\r?\n/)
    .filter((line) => line.startsWith(`${tag}|`))
    .map((line) => line.split('|'));
}

describe('five learners, each against the four others', () => {
  let dataDir: string;
  let portal: Portal;
  let seats: Seat[] = [];
  let kubeletDir: string;
  const { log } = captureLogs('warn');

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-cross-sandbox-'));
    const config = { ...parseConfig({ DATA_DIR: dataDir, PORT: '0', AUTH: 'dev', LAB_CLUSTER: 'embedded' }, dataDir), sessionSecret: 's'.repeat(32) };
    portal = await startPortal(config, { log, shutdownGraceMs: 2_000 });
    await portal.cluster.whenReady();
    kubeletDir = path.join(tmpdir(), `formicary-kubelet-${createHash('sha256').update(path.join(dataDir, 'cluster')).digest('hex').slice(0, 12)}`);
    const core = portal.cluster.loadKubeConfig().makeApiClient(CoreV1Api);

    const learners = await Promise.all(NAMES.map((name) => PortalLearner.signIn(portal.url, name)));
    const sessions = await Promise.all(learners.map((learner) => learner.startLab(LAB, 240_000)));
    seats = await Promise.all(
      learners.map(async (learner, i) => {
        const session = sessions[i]!;
        const namespace = session.namespace!;
        const terminal = await learner.openTerminal(LAB, { session: session.id });
        terminal.attach();
        const secret = `secret-of-${NAMES[i]}-${Math.random().toString(36).slice(2, 12)}`;
        const sleeper = 70_000 + i;
        await terminal.run(`echo ${secret} > ~/secret.txt; (sleep ${sleeper} &) ; kubectl expose deployment web --name probe --port 80 --target-port 8080 >/dev/null`, 60_000);
        return { learner, session: session.id, namespace, terminal, secret, sleeper };
      }),
    ).then((partial) =>
      Promise.all(
        partial.map(async (seat) => {
          const service = await core.readNamespacedService({ namespace: seat.namespace, name: 'probe' });
          // The learner's own Service answers: what the others are refused is really there.
          const own = await seat.terminal.run(
            'for i in $(seq 1 60); do code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 2 http://probe); [ "$code" = 200 ] && break; sleep 1; done; echo "own|$code"',
            120_000,
          );
          expect(own, seat.namespace).toContain('own|200');
          const pods = await core.listNamespacedPod({ namespace: seat.namespace, labelSelector: 'app=web' });
          const sleeperPid = pidsRunning(['sleep', String(seat.sleeper)])[0] ?? 0;
          const secretPath = findFile(kubeletDir, 'secret.txt', seat.secret)[0] ?? '';
          return { ...seat, sleeperPid, secretPath, serviceIp: service.spec?.clusterIP ?? '', podIp: pods.items[0]?.status?.podIP ?? '' };
        }),
      ),
    );
    for (const seat of seats) {
      expect(seat.sleeperPid, `${seat.namespace}: sleep ${seat.sleeper} on the machine`).toBeGreaterThan(0);
      expect(seat.secretPath, `${seat.namespace}: ~/secret.txt on the machine`).not.toBe('');
      expect(seat.serviceIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(seat.podIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
  }, 600_000);

  afterAll(async () => {
    for (const seat of seats) seat.terminal.close();
    await portal?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  function others(seat: Seat): Seat[] {
    return seats.filter((other) => other !== seat);
  }

  it('refuses kubectl, with the learner’s own token, everything in another sandbox: get, list, create, delete, exec', async () => {
    const attempts: Array<[string, RegExp]> = [
      ['get pods', /cannot list resource "pods" in API group "" in the namespace/],
      ['get secrets', /cannot list resource "secrets" in API group "" in the namespace/],
      ['get pod workbench', /cannot get resource "pods" in API group "" in the namespace/],
      ['create configmap intruder --from-literal=a=b', /cannot create resource "configmaps" in API group "" in the namespace/],
      ['delete pod workbench --wait=false', /cannot delete resource "pods" in API group "" in the namespace/],
      ['exec workbench -- true', /cannot (get|create) resource "pods(\/exec)?" in API group "" in the namespace/],
    ];
    await Promise.all(
      seats.map(async (seat) => {
        const script = others(seat)
          .flatMap((other) => attempts.map(([command], n) => `(out=$(kubectl -n ${other.namespace} ${command} 2>&1); echo "K|${other.namespace}|${n}|$?|$(echo "$out" | head -n 1)") &`))
          .join(' ');
        const output = await seat.terminal.run(`${script} wait; kubectl get pods -o name >/dev/null; echo "K|own|-|$?|"`, 180_000);
        const results = rows(output, 'K');
        expect(results.find(([, namespace]) => namespace === 'own')?.[3], `${seat.namespace}: its own pods`).toBe('0');
        expect(results.filter(([, namespace]) => namespace !== 'own')).toHaveLength(others(seat).length * attempts.length);
        for (const [, namespace, n, code, said] of results.filter(([, namespace]) => namespace !== 'own')) {
          const [command, refusal] = attempts[Number(n)]!;
          expect(code, `${seat.namespace} → ${namespace}: kubectl ${command}: ${said}`).not.toBe('0');
          // kubectl's words around the server's: `Error from server (Forbidden): …`, or for create, `error: failed to create configmap: …`.
          expect(said, `${seat.namespace} → ${namespace}: kubectl ${command}`).toMatch(/^(Error from server \(Forbidden\): |error: failed to create configmap: ).+ is forbidden: /);
          expect(said).toMatch(refusal);
          expect(said).toContain(`User "system:serviceaccount:${seat.namespace}:learner"`);
          expect(said).toContain(`"${namespace}"`);
        }
      }),
    );
  }, 300_000);

  it('shows no other learner’s files, nor the portal’s or the cluster’s data', async () => {
    const clusterDir = path.join(dataDir, 'cluster');
    await Promise.all(
      seats.map(async (seat) => {
        // `cat` for a file (may it be read?), `ls` for a folder (may it be seen at all?).
        const targets: Array<['cat' | 'ls', string]> = [
          ...others(seat).flatMap((other): Array<['cat' | 'ls', string]> => [
            ['cat', other.secretPath],
            ['ls', path.dirname(other.secretPath)],
            ['cat', `/proc/${other.sleeperPid}/environ`],
            ['ls', `/proc/${other.sleeperPid}/root/`],
          ]),
          ['cat', path.join(dataDir, 'formicary.db')],
          ['ls', dataDir],
          ['cat', path.join(clusterDir, 'admin.token')],
          ['cat', path.join(clusterDir, 'kubeconfig')],
          ['ls', clusterDir],
          ['ls', kubeletDir],
          ['cat', '/etc/shadow'],
        ];
        const script = targets.map(([how, target], n) => `(${how} "${target}" >/dev/null 2>&1; echo "F|${n}|$?")`).join('; ');
        // Everywhere a learner can write, and so where another learner's files would show up.
        const search = `grep -rl -e "secret-of-" ${WRITABLE_PLACES} 2>/dev/null | sort -u | head -n 20 | sed "s/^/S|/"`;
        const output = await seat.terminal.run(`${script}; ${search}; echo "S|done"`, 240_000);
        const results = rows(output, 'F');
        expect(results).toHaveLength(targets.length);
        for (const [, n, code] of results) expect(code, `${seat.namespace} read ${targets[Number(n)]}`).not.toBe('0');
        // The only file with a secret in it that this learner finds is its own.
        const found = rows(output, 'S')
          .map(([, file]) => file)
          .filter((file) => file !== 'done');
        for (const file of found) expect(file, `${seat.namespace} found ${file}`).toMatch(/secret\.txt$/);
        const seen = await seat.terminal.run(`for f in $(grep -rl -e "secret-of-" ${WRITABLE_PLACES} 2>/dev/null | sort -u); do cat "$f"; done`, 240_000);
        for (const other of others(seat)) expect(seen).not.toContain(other.secret);
        expect(seen).toContain(seat.secret);
      }),
    );
  }, 600_000);

  it('shows and lets kill no other learner’s processes', async () => {
    await Promise.all(
      seats.map(async (seat) => {
        const listing = await seat.terminal.run('ps -eo args | grep "^sleep 7000" | sort', 60_000);
        expect(listing).toContain(`sleep ${seat.sleeper}`);
        for (const other of others(seat)) expect(listing).not.toContain(`sleep ${other.sleeper}`);
        const script = others(seat)
          .map((other) => `kill -9 ${other.sleeperPid} 2>/dev/null; echo "P|${other.sleeperPid}|$?"; kill -0 ${other.sleeperPid} 2>/dev/null; echo "P|${other.sleeperPid}|$?"`)
          .join('; ');
        const results = rows(await seat.terminal.run(script, 60_000), 'P');
        expect(results).toHaveLength(2 * others(seat).length);
        for (const [, pid, code] of results) expect(code, `${seat.namespace} killed ${pid}`).not.toBe('0');
      }),
    );
    for (const seat of seats) expect(pidsRunning(['sleep', String(seat.sleeper)]), `${seat.namespace}'s sleep`).toEqual([seat.sleeperPid]);
  }, 300_000);

  it('does not reach another sandbox’s Service by name, DNS name, cluster IP or pod IP', async () => {
    await Promise.all(
      seats.map(async (seat) => {
        const addresses = others(seat).flatMap((other) => [
          `http://probe.${other.namespace}`,
          `http://probe.${other.namespace}.svc.cluster.local`,
          `http://${other.serviceIp}`,
          `http://${other.podIp}:8080`,
        ]);
        const script = addresses.map((address) => `(code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 3 ${address}); echo "N|${address}|$?|$code") &`).join(' ');
        const output = await seat.terminal.run(`${script} wait; echo "N|own|0|$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 http://probe)"`, 180_000);
        const results = rows(output, 'N');
        expect(results.find(([, address]) => address === 'own')?.[3], `${seat.namespace}: its own Service`).toBe('200');
        const refused = results.filter(([, address]) => address !== 'own');
        expect(refused).toHaveLength(addresses.length);
        for (const [, address, exit, code] of refused) {
          expect(code, `${seat.namespace} → ${address}`).toBe('000');
          expect(exit, `${seat.namespace} → ${address}`).not.toBe('0');
        }
      }),
    );
  }, 300_000);

  it('refuses to open, read or act on another learner’s lab session and terminal through the portal', async () => {
    for (const seat of seats) {
      for (const other of others(seat)) {
        const opened = await seat.learner.openTerminal(LAB, { session: other.session }).then(
          (terminal) => {
            terminal.close();
            return { status: 101 };
          },
          (error: { status?: number; body?: string }) => error,
        );
        expect(opened.status, `${seat.namespace} opened ${other.namespace}'s terminal`).toBe(403);
        const watched = await seat.learner.openTerminal(LAB, { path: `/api/workshops/any/learners/${other.learner.id}/terminal` }).then(
          () => ({ status: 101 }),
          (error: { status?: number }) => error,
        );
        expect([401, 403, 404], `${seat.namespace} watched ${other.namespace}'s terminal`).toContain(watched.status);
        const state = await seat.learner.fetch(`/api/labs/${LAB}/state?session=${other.session}`);
        expect([403, 404], `${seat.namespace} read ${other.namespace}'s lab state`).toContain(state.status);
        expect(await state.text()).not.toContain(other.namespace);
        for (const action of ['check', 'hint', 'reset', 'end']) {
          const acted = await seat.learner.post(`/api/labs/${LAB}/${action}`, { session: other.session });
          expect([403, 404], `${seat.namespace} ${action} on ${other.namespace}'s session`).toContain(acted.status);
        }
      }
    }
    // Nothing above touched the others: every sandbox still has its shell and its session.
    for (const seat of seats) {
      expect(await seat.terminal.run('echo still-$((40+2))', 60_000)).toContain('still-42');
      expect((await seat.learner.labState(LAB))?.status).toBe('ready');
    }
  }, 300_000);
});
