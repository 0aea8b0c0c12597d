// The workbench: an exec into a formicary/workbench pod is the learner's terminal — a real bash
// with kubectl bound to the pod's ServiceAccount and namespace, so RBAC decides what it may do.
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
const ns = 'lab-1';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
`);
  await lab.serviceAccountReady(ns);
  await lab.apply(`apiVersion: v1
kind: ServiceAccount
metadata: {name: learner, namespace: ${ns}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: learner-edit, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: learner, namespace: ${ns}}]
---
apiVersion: v1
kind: Pod
metadata: {name: workbench, namespace: ${ns}}
spec:
  serviceAccountName: learner
  containers:
  - name: workbench
    image: formicary/workbench:1.0
    volumeMounts: [{name: home, mountPath: /home/learner}]
  volumes: [{name: home, emptyDir: {}}]
`);
  await lab.until('the workbench Running', () => phase(lab.pod(ns, 'workbench')) === 'Running');
});
afterAll(async () => {
  await lab?.stop();
});

function exec(...command: string[]) {
  return lab.kubectl(['exec', '-n', ns, 'workbench', '--', ...command], { timeoutMs: 60_000 });
}

describe('the workbench', () => {
  it('has kubectl bound to its ServiceAccount and namespace: its own namespace works, others are forbidden', async () => {
    const own = await exec('kubectl', 'get', 'pods');
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nworkbench\s+1\/1\s+Running\s+0/);
    const other = await exec('kubectl', 'get', 'pods', '-n', 'other');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:lab-1:learner" cannot list resource "pods" in API group "" in the namespace "other"');
    const created = await exec('kubectl', 'create', 'deployment', 'web', '--image=nginx:1.27');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('deployment.apps/web created\n');
  });

  it('is the learner at home: HOME on the pod volume, a kubeconfig there, the everyday tools', async () => {
    const result = await exec('bash', '-c', 'id -un; echo $HOME; pwd; kubectl config view --minify -o jsonpath="{.contexts[0].context.namespace}"; echo; command -v curl jq vim');
    expect(result.stdout.split('\n').slice(0, 4)).toEqual(['learner', '/home/learner', '/home/learner', ns]);
    expect(result.stdout).toContain('/usr/bin/curl');
  });

  it('opens an interactive bash with the prompt, completion and alias a learner expects', async () => {
    const stdout = new PassThrough();
    const stdin = new PassThrough();
    let screen = '';
    stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    let status: k8s.V1Status | undefined;
    const socket = await new k8s.Exec(lab.kubeConfig()).exec(ns, 'workbench', 'workbench', ['bash', '-l'], stdout, null, stdin, true, (s) => (status = s));
    socket.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 120, Height: 40 }))]));
    // The prompt is coloured: compare the text without its escape sequences.
    const plain = () => screen.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
    await lab.until('the prompt', () => plain().includes('learner@workbench:~$ '), 30_000);
    stdin.write('complete -p k; k get pods -o name | sort\r');
    await lab.until('the pods', () => screen.includes('pod/workbench'), 30_000);
    expect(screen).toContain('complete -o default -F __start_kubectl k');
    stdin.write('exit\r');
    await lab.until('the session to end', () => status);
    expect(status?.status).toBe('Success');
  }, 90_000);
});
