// A hostile learner and the paths of a pod's volumes. With only the rights a sandbox gives (the
// `edit` ClusterRole in its namespace, through its own ServiceAccount token) the learner tries to
// reach the host through hostPath, subPath, subPathExpr and the paths of ConfigMap, Secret,
// downwardAPI and projected items. The API server refuses what Kubernetes refuses, word for word;
// what validation cannot see (links planted at run time) the kubelet refuses when it prepares the
// container, and what a pod is allowed to name lands inside its own volume or node, never on the host.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, type KubectlResult, startKubeletCluster } from '../cluster/kubelet/harness.ts';

let lab: KubeletCluster;
const ns = 'sandbox-vol';
let learnerConfig: string;

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.kubectl(['create', 'serviceaccount', 'learner', '-n', ns]);
  await lab.kubectl(['create', 'rolebinding', 'learner-edit', '--clusterrole=edit', `--serviceaccount=${ns}:learner`, '-n', ns]);
  const token = await lab.kubectl(['create', 'token', 'learner', '-n', ns, '--duration=1h']);
  expect(token.code, token.stderr).toBe(0);
  const admin = readFileSync(lab.kubeconfig, 'utf8');
  const server = /server: (\S+)/.exec(admin)?.[1];
  const ca = /certificate-authority-data: (\S+)/.exec(admin)?.[1];
  learnerConfig = join(lab.dir, 'learner.kubeconfig');
  writeFileSync(
    learnerConfig,
    `apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: ${server}, certificate-authority-data: ${ca}}}]
users: [{name: learner, user: {token: ${token.stdout.trim()}}}]
contexts: [{name: lab, context: {cluster: lab, user: learner, namespace: ${ns}}}]
current-context: lab
`,
  );
});
afterAll(async () => {
  await lab?.stop();
});

/** kubectl as the learner: their own token, their own namespace. */
function learner(args: string[], stdin?: string): Promise<KubectlResult> {
  return lab.kubectl(['--kubeconfig', learnerConfig, ...args], stdin === undefined ? {} : { stdin });
}

function podYaml(name: string, spec: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
${spec}`;
}

/** The learner's create is refused with 422 Invalid: kubectl prints these lines, in this order. */
async function refused(yaml: string, lines: string[]): Promise<void> {
  const result = await learner(['create', '-f', '-'], yaml);
  expect(result.code, result.stdout).toBe(1);
  for (const line of lines) expect(result.stderr).toContain(line);
}

describe('the API server refuses paths that leave a volume, as Kubernetes does', () => {
  it("hostPath with '..': the host's / read-write", async () => {
    await refused(
      podYaml(
        'root-of-host',
        `  containers:
  - {name: shell, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: host, mountPath: /host}]}
  volumes: [{name: host, hostPath: {path: "/../../../../../../../../../"}}]`,
      ),
      [
        'The Pod "root-of-host" is invalid: ',
        `* spec.volumes[0].hostPath.path: Invalid value: "/../../../../../../../../../": must not contain '..'`,
        '* spec.containers[0].volumeMounts[0].name: Not found: "host"',
      ],
    );
  });

  it('an emptyDir subPath that climbs out, and an absolute one', async () => {
    await refused(
      podYaml(
        'climb',
        `  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts:
    - {name: scratch, mountPath: /a, subPath: "../../../../../../../../etc"}
    - {name: scratch, mountPath: /b, subPath: /etc}
  volumes: [{name: scratch, emptyDir: {}}]`,
      ),
      [
        `The Pod "climb" is invalid: `,
        `* spec.containers[0].volumeMounts.subPath: Invalid value: "../../../../../../../../etc": must not contain '..'`,
        `* spec.containers[0].volumeMounts.subPath: Invalid value: "/etc": must be a relative path`,
      ],
    );
  });

  it('a configMap subPath that climbs to a root-only file', async () => {
    await refused(
      podYaml(
        'steal-token',
        `  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts: [{name: cfg, mountPath: /stolen, subPath: "../../../../../../data/admin.token"}]
  volumes: [{name: cfg, configMap: {name: anything}}]`,
      ),
      [`The Pod "steal-token" is invalid: spec.containers[0].volumeMounts.subPath: Invalid value: "../../../../../../data/admin.token": must not contain '..'`],
    );
  });

  it("items' paths: '..', absolute, the atomic writer's reserved '..data'", async () => {
    await refused(
      podYaml(
        'items',
        `  containers:
  - {name: shell, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: cfg, mountPath: /c}, {name: sec, mountPath: /s}, {name: down, mountPath: /d}]}
  volumes:
  - name: cfg
    configMap: {name: app, items: [{key: a, path: ../../a}, {key: b, path: /etc/b}, {key: c, path: ..data}]}
  - name: sec
    secret: {secretName: app, items: [{key: a, path: x/../../a}]}
  - name: down
    downwardAPI: {items: [{path: ../name, fieldRef: {fieldPath: metadata.name}}]}`,
      ),
      [
        `* spec.volumes[0].configMap.items[0].path: Invalid value: "../../a": must not contain '..'`,
        `* spec.volumes[0].configMap.items[1].path: Invalid value: "/etc/b": must be a relative path`,
        `* spec.volumes[0].configMap.items[2].path: Invalid value: "..data": must not start with '..'`,
        `* spec.volumes[1].secret.items[0].path: Invalid value: "x/../../a": must not contain '..'`,
        `* spec.volumes[2].downwardAPI.path: Invalid value: "../name": must not contain '..'`,
        '* spec.containers[0].volumeMounts[0].name: Not found: "cfg"',
        '* spec.containers[0].volumeMounts[1].name: Not found: "sec"',
        '* spec.containers[0].volumeMounts[2].name: Not found: "down"',
      ],
    );
  });

  it("projected sources' paths, the token's included", async () => {
    await refused(
      podYaml(
        'projected',
        `  containers:
  - {name: shell, image: busybox, command: [sleep, '3600']}
  volumes:
  - name: all
    projected:
      sources:
      - configMap: {name: app, items: [{key: a, path: ../../../a}]}
      - secret: {name: app, items: [{key: b, path: /b}]}
      - downwardAPI: {items: [{path: ../../labels, fieldRef: {fieldPath: metadata.labels}}]}
      - serviceAccountToken: {path: ../../token, expirationSeconds: 3600}`,
      ),
      [
        `* spec.volumes[0].projected.sources[0].configMap.items[0].path: Invalid value: "../../../a": must not contain '..'`,
        `* spec.volumes[0].projected.sources[1].secret.items[0].path: Invalid value: "/b": must be a relative path`,
        `* spec.volumes[0].projected.sources[2].downwardAPI.path: Invalid value: "../../labels": must not contain '..'`,
        `* spec.volumes[0].projected.path: Invalid value: "../../token": must not contain '..'`,
      ],
    );
  });

  it('subPathExpr: no climbing either, and never together with subPath', async () => {
    await refused(
      podYaml(
        'expr',
        `  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts:
    - {name: scratch, mountPath: /a, subPathExpr: "$(POD_NAME)/../../.."}
    - {name: scratch, mountPath: /b, subPath: logs, subPathExpr: "$(POD_NAME)"}
  volumes: [{name: scratch, emptyDir: {}}]`,
      ),
      [
        `* spec.containers[0].volumeMounts.subPathExpr: Invalid value: "$(POD_NAME)/../../..": must not contain '..'`,
        `* spec.containers[0].volumeMounts[1].subPathExpr: Invalid value: "$(POD_NAME)": subPathExpr and subPath are mutually exclusive`,
      ],
    );
  });

  it('every pod template is held to the same rules (Deployment, StatefulSet, DaemonSet, Job, CronJob)', async () => {
    const template = `      containers:
      - {name: shell, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: scratch, mountPath: /a, subPath: ../../etc}]}
      volumes: [{name: scratch, emptyDir: {}}]`;
    const workloads: Array<[kind: string, apiVersion: string, specPrefix: string, body: string]> = [
      ['Deployment', 'apps/v1', 'spec.template.spec', `  selector: {matchLabels: {app: w}}\n  template:\n    metadata: {labels: {app: w}}\n    spec:\n${template}`],
      ['StatefulSet', 'apps/v1', 'spec.template.spec', `  serviceName: w\n  selector: {matchLabels: {app: w}}\n  template:\n    metadata: {labels: {app: w}}\n    spec:\n${template}`],
      ['DaemonSet', 'apps/v1', 'spec.template.spec', `  selector: {matchLabels: {app: w}}\n  template:\n    metadata: {labels: {app: w}}\n    spec:\n${template}`],
      ['Job', 'batch/v1', 'spec.template.spec', `  template:\n    spec:\n      restartPolicy: Never\n${template}`],
      [
        'CronJob',
        'batch/v1',
        'spec.jobTemplate.spec.template.spec',
        `  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n${template.replace(/^/gm, '    ')}`,
      ],
    ];
    for (const [kind, apiVersion, specPrefix, body] of workloads) {
      await refused(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: w}\nspec:\n${body}\n`, [
        `The ${kind} "w" is invalid: ${specPrefix}.containers[0].volumeMounts.subPath: Invalid value: "../../etc": must not contain '..'`,
      ]);
    }
  });

  it('a valid pod with every kind of path is accepted (server-side dry run)', async () => {
    const result = await learner(
      ['create', '--dry-run=server', '-o', 'name', '-f', '-'],
      podYaml(
        'fine',
        `  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts:
    - {name: cfg, mountPath: /etc/app/app.conf, subPath: app.conf}
    - {name: scratch, mountPath: /logs, subPathExpr: "$(POD_NAME)/logs"}
    - {name: node, mountPath: /node}
  volumes:
  - {name: cfg, configMap: {name: app, items: [{key: conf, path: app.conf}, {key: extra, path: conf.d/extra..conf}]}}
  - {name: scratch, emptyDir: {}}
  - {name: node, hostPath: {path: /var/log/app, type: DirectoryOrCreate}}`,
      ),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('pod/fine\n');
  });
});
