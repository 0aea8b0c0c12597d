// deploy/ as an operator applies it: `kubectl apply -k deploy/overlays/<name>` with server-side
// dry-run against a cluster, with kubectl 1.27 and 1.33 (each has kustomize built in). Every
// object must be accepted, with no warning (Pod Security, deprecated APIs, unknown fields).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlBinary } from '../cluster/conformance/harness.ts';
import { startTestCluster, type TestCluster } from '../labs/cluster.ts';

const run = promisify(execFile);
const OVERLAYS = readdirSync('deploy/overlays');
const EXPECTED = [
  'serviceaccount/formicary-portal',
  'clusterrole.rbac.authorization.k8s.io/formicary-portal',
  'role.rbac.authorization.k8s.io/formicary-portal-leader',
  'configmap/formicary-portal-',
  'deployment.apps/formicary-portal',
  'service/formicary-portal',
  'ingress.networking.k8s.io/formicary-portal',
  'poddisruptionbudget.policy/formicary-portal',
  'horizontalpodautoscaler.autoscaling/formicary-portal',
  'networkpolicy.networking.k8s.io/portal-from-ingress-only',
];

let cluster: TestCluster;
let kubeconfig: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  kubeconfig = join(cluster.dir, 'kubeconfig');
  await writeFile(kubeconfig, cluster.cluster.kubeconfig());
});
afterAll(() => cluster?.stop());

async function kubectl(version: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(kubectlBinary(version), ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe.each(['1.27', '1.33'])('deploy/ with kubectl %s', (version) => {
  it('has the overlays the README names', () => {
    expect(OVERLAYS.sort()).toEqual(['production', 'staging']);
  });

  it.each(OVERLAYS)('overlay %s is accepted by the API server with no warning', async (overlay) => {
    // Namespaced objects need their namespace to exist, as on a real cluster: create it first.
    const rendered = await kubectl(version, 'kustomize', `deploy/overlays/${overlay}`);
    expect(rendered.code).toBe(0);
    const namespace = /^kind: Namespace\nmetadata:\n(?:  .*\n)*?  name: (\S+)/m.exec(rendered.stdout.replace(/^apiVersion: v1\n/gm, ''))?.[1];
    expect(namespace).toMatch(/^formicary/);
    await kubectl(version, 'create', 'namespace', namespace!, '--save-config');

    const applied = await kubectl(version, 'apply', '-k', `deploy/overlays/${overlay}`, '--dry-run=server');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    for (const object of EXPECTED) expect(applied.stdout.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^${object.replace(/\./g, '\\.')}\\S* (created|configured|unchanged) \\(server dry run\\)$`)));
  });
});
