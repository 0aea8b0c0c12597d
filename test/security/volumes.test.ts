// A hostile learner and the paths of a pod's volumes. With only the rights a sandbox gives (the
// `edit` ClusterRole in its namespace, through its own ServiceAccount token) the learner tries to
// reach the host through hostPath, subPath, subPathExpr and the paths of ConfigMap, Secret,
// downwardAPI and projected items. The API server refuses what Kubernetes refuses, word for word;
// what validation cannot see (links planted at run time) the kubelet refuses when it prepares the
// container, and what a pod is allowed to name lands inside its own volume or node, never on the host.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { detectSandboxSupport, spawnSandboxed } from '../../src/cluster/kubelet/sandbox/index.ts';
import { PathEscape, PathMissing, pin, resolveInRoot, walkInRoot } from '../../src/cluster/kubelet/volume-root.ts';
import { type KubeletCluster, type KubectlResult, startKubeletCluster } from '../cluster/kubelet/harness.ts';

// Pods start, fail and restart for real here; on two shared cores that can take a while.
vi.setConfig({ testTimeout: 120_000 });

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

  it('ephemeral containers: never on create, and never with a subPath', async () => {
    await refused(
      podYaml(
        'debugged',
        `  containers:
  - {name: shell, image: busybox, command: [sleep, '3600']}
  ephemeralContainers:
  - {name: debugger, image: busybox, volumeMounts: [{name: scratch, mountPath: /s, subPath: x}, {name: scratch, mountPath: /t, subPathExpr: "$(HOME)"}]}
  volumes: [{name: scratch, emptyDir: {}}]`,
      ),
      [
        '* spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
        '* spec.ephemeralContainers[0].volumeMounts[1].subPathExpr: Forbidden: cannot be set for an Ephemeral Container',
        '* spec.ephemeralContainers: Forbidden: cannot be set on create',
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
  - {name: node, hostPath: {path: /var/log/app, type: DirectoryOrCreate}}
  - {name: about, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: token, projected: {sources: [{serviceAccountToken: {path: vault-token, audience: vault}}]}}`,
      ),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('pod/fine\n');
    // Defaults as the API server sets them: file modes 0644, fieldRef apiVersion, a token of an hour.
    const stored = await learner(
      ['create', '--dry-run=server', '-o', 'jsonpath={.spec.volumes[3]}{"\\n"}{.spec.volumes[4]}', '-f', '-'],
      podYaml(
        'defaults',
        `  containers:
  - {name: shell, image: busybox, command: [sleep, '3600']}
  volumes:
  - {name: a, emptyDir: {}}
  - {name: b, emptyDir: {}}
  - {name: c, emptyDir: {}}
  - {name: about, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: token, projected: {sources: [{serviceAccountToken: {path: vault-token, audience: vault}}]}}`,
      ),
    );
    expect(stored.stdout.split('\n').map((line) => JSON.parse(line))).toEqual([
      { name: 'about', downwardAPI: { defaultMode: 420, items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] } },
      { name: 'token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { path: 'vault-token', audience: 'vault', expirationSeconds: 3600 } }] } },
    ]);
  });
});

/** The learner applies; the test then waits as a learner would, with kubectl. */
async function apply(yaml: string): Promise<void> {
  const result = await learner(['apply', '-f', '-'], yaml);
  expect(result.code, result.stderr).toBe(0);
}

function inside(pod: string, script: string, container?: string): Promise<KubectlResult> {
  return learner(['exec', pod, ...(container ? ['-c', container] : []), '--', 'sh', '-c', script]);
}

function status(pod: string, container: string): Record<string, any> | undefined {
  const statuses = ((lab.pod(ns, pod)?.status as Record<string, unknown> | undefined)?.['containerStatuses'] ?? []) as Array<Record<string, any>>;
  return statuses.find((s) => s['name'] === container);
}

// Generous waits: the whole suite runs on two shared cores.
const running = (pod: string, container: string) => lab.until(`${pod}/${container} running`, () => status(pod, container)?.['state']?.['running'] !== undefined, 45_000);

/** The container waits with CreateContainerConfigError and this message, and the kubelet says so in an event. */
async function refusedByKubelet(pod: string, container: string, message: string): Promise<void> {
  const waiting = await lab.until(`${pod}/${container} CreateContainerConfigError`, () => {
    const state = status(pod, container)?.['state']?.['waiting'];
    return state?.['reason'] === 'CreateContainerConfigError' ? state : undefined;
  }, 45_000);
  expect(waiting['message']).toBe(message);
  expect(lab.events(ns, pod)).toContainEqual({ type: 'Warning', reason: 'Failed', message: `Error: ${message}` });
}

const nodeName = (pod: string) => (lab.pod(ns, pod)?.spec as Record<string, string> | undefined)?.['nodeName'];
const hostPathRoot = (node: string) => join(lab.kubeletDir, 'nodes', node, 'hostpath');

describe("hostPath is a directory of the simulated node, never the host's", () => {
  it('/, /etc, /proc and /root are the node\'s own (empty) directories, and what a pod writes stays on the node', async () => {
    const marker = `formicary-marker-${process.pid}`;
    await apply(
      podYaml(
        'node-paths',
        `  nodeName: node-1
  containers:
  - name: shell
    image: busybox
    command: [sh, -c, 'echo planted > /node-etc/${marker}; exec sleep 3600']
    volumeMounts: [{name: root, mountPath: /node}, {name: etc, mountPath: /node-etc}, {name: proc, mountPath: /node-proc}, {name: home, mountPath: /node-root}]
  volumes:
  - {name: root, hostPath: {path: /}}
  - {name: etc, hostPath: {path: /etc}}
  - {name: proc, hostPath: {path: /proc}}
  - {name: home, hostPath: {path: /root}}`,
      ),
    );
    await running('node-paths', 'shell');
    const seen = await inside('node-paths', `cat /node-etc/shadow /node-etc/passwd 2>&1 | head -1; ls -A /node-proc | wc -l; ls -A /node-root | wc -l; ls /node-etc; ls /node`);
    expect(seen.stdout.split('\n')).toEqual(["cat: can't open '/node-etc/shadow': No such file or directory", '0', '0', marker, 'etc', 'proc', 'root', '']);
    expect(readFileSync(join(hostPathRoot('node-1'), 'etc', marker), 'utf8')).toBe('planted\n');
    expect(existsSync(join('/etc', marker))).toBe(false);
  });

  it("links planted on the node resolve inside the node: / and '..' stop at the node's root", async () => {
    await apply(
      podYaml(
        'planter',
        `  nodeName: node-2
  restartPolicy: Never
  containers:
  - name: plant
    image: busybox
    command: [sh, -c, 'ln -s / /shared/to-root && ln -s ../../../../../../../../.. /shared/up && ln -s /etc/shadow /shared/shadow && echo node-file > /shared/file']
    volumeMounts: [{name: shared, mountPath: /shared}]
  volumes: [{name: shared, hostPath: {path: /shared}}]`,
      ),
    );
    await lab.until('the links planted', () => status('planter', 'plant')?.['state']?.['terminated']?.['exitCode'] === 0);
    await apply(
      podYaml(
        'follower',
        `  nodeName: node-2
  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts: [{name: root, mountPath: /a}, {name: up, mountPath: /b}, {name: shadow, mountPath: /c}]
  - {name: sub, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: shared, mountPath: /s, subPath: to-root}]}
  - {name: sub-file, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: shared, mountPath: /f, subPath: file}]}
  volumes:
  - {name: shared, hostPath: {path: /shared}}
  - {name: root, hostPath: {path: /shared/to-root}}
  - {name: up, hostPath: {path: /shared/up/shared}}
  - {name: shadow, hostPath: {path: /shared/shadow}}`,
      ),
    );
    await running('follower', 'shell');
    const seen = await inside('follower', 'ls /a; cat /b/file; ls -A /c | wc -l');
    // /shared/to-root is the node's root; /shared/up/shared climbs to it and comes back down; the
    // link to /etc/shadow names the node's /etc/shadow, which the hostPath makes (an empty directory).
    expect(seen.stdout).toBe('etc\nshared\nnode-file\n0\n');
    expect(execFileSync('stat', ['-c', '%F', join(hostPathRoot('node-2'), 'etc/shadow')], { encoding: 'utf8' })).toBe('directory\n');
    // A subPath inside a hostPath is a subPath like any other: a link out of the hostPath directory is refused.
    await refusedByKubelet('follower', 'sub', 'failed to prepare subPath for volumeMount "shared" of container "sub"');
    await running('follower', 'sub-file');
    expect((await inside('follower', 'cat /f', 'sub-file')).stdout).toBe('node-file\n');
  });
});

describe('hostPath types are checked on the node, as the hostPath plugin checks them', () => {
  it('Directory and File must be there and be that; FileOrCreate makes an empty file on the node', async () => {
    await apply(
      podYaml(
        'typed',
        `  nodeName: node-2
  containers:
  - {name: shell, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: dir, mountPath: /d}]}
  volumes: [{name: dir, hostPath: {path: /no/such/dir, type: Directory}}]`,
      ),
    );
    await lab.until('FailedMount', () =>
      lab.events(ns, 'typed').some((e) => e.reason === 'FailedMount' && e.message === 'MountVolume.SetUp failed for volume "dir" : hostPath type check failed: /no/such/dir is not a directory'),
    );
    expect(existsSync(join(hostPathRoot('node-2'), 'no'))).toBe(false);
    await apply(
      podYaml(
        'file-typed',
        `  nodeName: node-2
  containers:
  - {name: shell, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: file, mountPath: /f}]}
  volumes: [{name: file, hostPath: {path: /shared, type: File}}]`,
      ),
    );
    await lab.until('FailedMount for a directory given as File', () =>
      lab.events(ns, 'file-typed').some((e) => e.reason === 'FailedMount' && e.message === 'MountVolume.SetUp failed for volume "file" : hostPath type check failed: /shared is not a file'),
    );
    await apply(
      podYaml(
        'file-made',
        `  nodeName: node-2
  containers:
  - {name: shell, image: busybox, command: [sh, -c, 'echo appended >> /log/app.log; exec sleep 3600'], volumeMounts: [{name: log, mountPath: /log/app.log}]}
  volumes: [{name: log, hostPath: {path: /shared/app.log, type: FileOrCreate}}]`,
      ),
    );
    await running('file-made', 'shell');
    await lab.until('the line in the node file', () => readFileSync(join(hostPathRoot('node-2'), 'shared/app.log'), 'utf8') === 'appended\n');
  });
});

describe('a subPath never leaves its volume', () => {
  it('links planted in an emptyDir by an init container: absolute and climbing ones are refused, one inside the volume is followed', async () => {
    await apply(
      podYaml(
        'planted',
        `  initContainers:
  - name: plant
    image: busybox
    command: [sh, -c, 'ln -s / /data/root && ln -s /etc/shadow /data/shadow && ln -s ../../../../../../../../.. /data/up && mkdir /data/real && echo inside > /data/real/file && ln -s real /data/good && ln -s ./real/../real /data/round']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - {name: absolute, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /r, subPath: root}]}
  - {name: file, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /s, subPath: shadow}]}
  - {name: climbing, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /u, subPath: up/etc}]}
  - {name: fine, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /g, subPath: good}, {name: data, mountPath: /h, subPath: round}]}
  volumes: [{name: data, emptyDir: {}}]`,
      ),
    );
    await refusedByKubelet('planted', 'absolute', 'failed to prepare subPath for volumeMount "data" of container "absolute"');
    await refusedByKubelet('planted', 'file', 'failed to prepare subPath for volumeMount "data" of container "file"');
    await refusedByKubelet('planted', 'climbing', 'failed to prepare subPath for volumeMount "data" of container "climbing"');
    await running('planted', 'fine');
    expect((await inside('planted', 'cat /g/file /h/file', 'fine')).stdout).toBe('inside\ninside\n');
  });

  it('a link swapped in while the container ran is refused when it restarts', async () => {
    await apply(
      podYaml(
        'swapper',
        `  containers:
  - name: swap
    image: busybox
    command: [sh, -c, 'echo first > /work/run; rmdir /all/work 2>/dev/null || rm -rf /all/work; ln -s / /all/work; exit 1']
    volumeMounts: [{name: data, mountPath: /all}, {name: data, mountPath: /work, subPath: work}]
  volumes: [{name: data, emptyDir: {}}]`,
      ),
    );
    await refusedByKubelet('swapper', 'swap', 'failed to prepare subPath for volumeMount "data" of container "swap"');
    expect(lab.events(ns, 'swapper')).toContainEqual({ type: 'Normal', reason: 'Started', message: 'Started container swap' });
  });

  it('a link swapped in from an exec session never shows the next exec the host', async () => {
    await apply(
      podYaml(
        'exec-swap',
        `  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts: [{name: data, mountPath: /all}, {name: data, mountPath: /sub, subPath: sub}]
  volumes: [{name: data, emptyDir: {}}]`,
      ),
    );
    await running('exec-swap', 'shell');
    const swapped = await inside('exec-swap', 'rmdir /all/sub && ln -s /etc /all/sub && echo swapped');
    expect(swapped.stdout).toBe('swapped\n');
    const next = await inside('exec-swap', 'ls -A /sub; echo listed');
    expect(next.stdout).not.toMatch(/passwd|shadow|hostname/);
  });

  it("a missing subPath is made inside the volume, for the sandbox's user; a link to a missing place outside makes nothing", async () => {
    const away = `/tmp/formicary-away-${process.pid}`;
    await apply(
      podYaml(
        'missing',
        `  initContainers:
  - name: plant
    image: busybox
    command: [sh, -c, 'ln -s ../../../../../../../../..${away} /data/away && ln -s ${away}-abs /data/abs']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - {name: deep, image: busybox, command: [sh, -c, 'echo written > /deep/file; exec sleep 3600'], volumeMounts: [{name: data, mountPath: /deep, subPath: a/b/c}]}
  - {name: away, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /x, subPath: away/made}]}
  - {name: abs, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /y, subPath: abs/made}]}
  volumes: [{name: data, emptyDir: {}}]`,
      ),
    );
    await refusedByKubelet('missing', 'away', 'failed to prepare subPath for volumeMount "data" of container "away"');
    await refusedByKubelet('missing', 'abs', 'failed to prepare subPath for volumeMount "data" of container "abs"');
    await running('missing', 'deep');
    const volume = join(lab.kubeletDir, 'pods', lab.pod(ns, 'missing')?.metadata.uid ?? '', 'volumes', 'data');
    await lab.until('the file written through the subPath', () => existsSync(join(volume, 'a/b/c/file')) && readFileSync(join(volume, 'a/b/c/file'), 'utf8') === 'written\n');
    // The sandbox's own host user owns what was made for it, as it owns the volume.
    const owner = execFileSync('stat', ['-c', '%u', volume], { encoding: 'utf8' }).trim();
    expect(owner).not.toBe('0');
    expect(execFileSync('stat', ['-c', '%u', join(volume, 'a/b/c')], { encoding: 'utf8' }).trim()).toBe(owner);
    expect(existsSync(away)).toBe(false);
    expect(existsSync(`${away}-abs`)).toBe(false);
  });

  it('subPathExpr: expanded with the container\'s variables, then checked as the kubelet checks a subPath', async () => {
    await apply(
      podYaml(
        'expanded',
        `  containers:
  - name: own-dir
    image: busybox
    command: [sh, -c, 'echo mine > /logs/file; exec sleep 3600']
    env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    volumeMounts: [{name: data, mountPath: /logs, subPathExpr: "$(POD)/logs"}]
  - name: up
    image: busybox
    command: [sleep, '3600']
    env: [{name: UP, value: ".."}]
    volumeMounts: [{name: data, mountPath: /u, subPathExpr: "$(UP)"}]
  - name: absolute
    image: busybox
    command: [sleep, '3600']
    env: [{name: WHERE, value: /etc}]
    volumeMounts: [{name: data, mountPath: /w, subPathExpr: "$(WHERE)"}]
  - name: unset
    image: busybox
    command: [sleep, '3600']
    volumeMounts: [{name: data, mountPath: /n, subPathExpr: "$(NOPE)/$(ALSO)"}]
  volumes: [{name: data, emptyDir: {}}]`,
      ),
    );
    await refusedByKubelet('expanded', 'up', "unable to provision SubPath `..`: must not contain '..'");
    await refusedByKubelet('expanded', 'absolute', 'error SubPath `/etc` must not be an absolute path');
    await refusedByKubelet('expanded', 'unset', 'missing value for ALSO, NOPE');
    await running('expanded', 'own-dir');
    const volume = join(lab.kubeletDir, 'pods', lab.pod(ns, 'expanded')?.metadata.uid ?? '', 'volumes', 'data');
    await lab.until('the file in the expanded directory', () => existsSync(join(volume, 'expanded/logs/file')));
  });
});

describe("the workbench's HOME is the learner's: the kubelet writes nothing through it", () => {
  it('links planted where the starter files go lead nowhere: nothing is written or chowned on the host', async () => {
    const target = join(lab.dir, `host-dir-${process.pid}`);
    mkdirSync(target, { mode: 0o755 });
    await apply(
      podYaml(
        'bench',
        `  containers:
  - {name: workbench, image: "formicary/workbench:1.0", volumeMounts: [{name: home, mountPath: /home/learner}]}
  volumes: [{name: home, emptyDir: {}}]`,
      ),
    );
    await running('bench', 'workbench');
    const first = await inside('bench', 'ls -A ~ | sort | tr "\\n" " "');
    expect(first.stdout).toBe('.bashrc .kube .profile ');
    const planted = await inside('bench', `rm -rf ~/.kube ~/.bashrc ~/.profile && ln -s ${target} ~/.kube && ln -s ${target}/bashrc ~/.bashrc && ln -s ${target}/profile ~/.profile && echo planted`);
    expect(planted.stdout).toBe('planted\n');
    const next = await inside('bench', 'echo next session');
    expect(next.stdout).toBe('next session\n');
    expect(execFileSync('ls', ['-A', target], { encoding: 'utf8' })).toBe('');
    expect(execFileSync('stat', ['-c', '%u', target], { encoding: 'utf8' }).trim()).toBe('0');
  });
});

describe('what a pod may name still works', () => {
  it('a ConfigMap key through subPath, read-only, keeping its content when the ConfigMap changes', async () => {
    await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data: {app.conf: "first\\n"}
`);
    await apply(
      podYaml(
        'configured',
        `  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    volumeMounts: [{name: cfg, mountPath: /etc/app/app.conf, subPath: app.conf}, {name: cfg, mountPath: /cfg}, {name: cfg, mountPath: /none, subPath: absent}]
  volumes: [{name: cfg, configMap: {name: app}}]`,
      ),
    );
    await running('configured', 'shell');
    expect((await inside('configured', 'cat /etc/app/app.conf; ls -A /none | wc -l; echo x > /etc/app/app.conf || echo refused')).stdout).toMatch(/^first\n0\n[\s\S]*refused\n$/);
    const changed = await learner(['patch', 'configmap', 'app', '-p', '{"data":{"app.conf":"second\\n"}}']);
    expect(changed.code, changed.stderr).toBe(0);
    await lab.eventually('the whole-volume mount updated', async () => (await inside('configured', 'cat /cfg/app.conf')).stdout === 'second\n', 45_000);
    expect((await inside('configured', 'cat /etc/app/app.conf')).stdout).toBe('first\n');
  });

  it('an emptyDir shared by two containers, and a hostPath shared by two pods on one node', async () => {
    await apply(
      podYaml(
        'pair',
        `  nodeName: node-1
  containers:
  - {name: writer, image: busybox, command: [sh, -c, 'echo shared > /data/note; echo on-node > /node/note; exec sleep 3600'], volumeMounts: [{name: data, mountPath: /data}, {name: node, mountPath: /node}]}
  - {name: reader, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /in, subPath: ""}]}
  volumes: [{name: data, emptyDir: {}}, {name: node, hostPath: {path: /var/lib/pair, type: DirectoryOrCreate}}]`,
      ),
    );
    await apply(podYaml('neighbour', `  nodeName: node-1\n  containers:\n  - {name: shell, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: node, mountPath: /seen}]}\n  volumes: [{name: node, hostPath: {path: /var/lib/pair}}]`));
    await running('pair', 'reader');
    await running('neighbour', 'shell');
    await lab.eventually('the note', async () => (await inside('pair', 'cat /in/note', 'reader')).stdout === 'shared\n');
    await lab.eventually('the node note', async () => (await inside('neighbour', 'cat /seen/note')).stdout === 'on-node\n');
    expect(nodeName('neighbour')).toBe('node-1');
  });
});

describe("the kubelet's walk inside a root (what stands behind validation)", () => {
  it('refuses what climbs out or links out, clamps a node path to its root, and follows links that stay inside', () => {
    const root = join(lab.dir, 'walk-root');
    mkdirSync(join(root, 'inside/deeper'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'inside/file'), 'inside\n');
    symlinkSync('/etc', join(root, 'to-etc'));
    symlinkSync('../../../../../../..', join(root, 'inside/up'));
    symlinkSync('deeper/../file', join(root, 'inside/twisty'));
    symlinkSync('loop-b', join(root, 'loop-a'));
    symlinkSync('loop-a', join(root, 'loop-b'));
    const subPath = (path: string) => resolveInRoot(root, path, { links: 'refuse-escape' });
    const onNode = (path: string) => resolveInRoot(root, path, { links: 'within-root' });
    for (const path of ['../../../../etc/shadow', 'to-etc', 'to-etc/shadow', 'inside/up/etc/shadow', 'loop-a']) expect(() => subPath(path), path).toThrow(PathEscape);
    expect(subPath('inside/twisty')).toBe(join(realpathSync(root), 'inside/file'));
    expect(() => onNode('../../../../etc/shadow')).toThrow(PathMissing);
    expect(onNode('../../../../inside/file')).toBe(join(realpathSync(root), 'inside/file'));
    expect(onNode('to-etc/../inside/up/inside/file')).toBe(join(realpathSync(root), 'inside/file'));
    expect(() => onNode('inside/file/more')).toThrow(PathEscape);
    rmSync(root, { recursive: true });
  });

  it('binds the object the walk found, by descriptor: a source swapped for a link to /etc afterwards changes nothing', async () => {
    const support = detectSandboxSupport({ unsafeLocalShell: false, runtimeDir: join(lab.dir, 'pin-runtime') });
    expect(support.mode).toBe('bubblewrap');
    const root = join(lab.dir, 'pin-root');
    mkdirSync(join(root, 'sub'), { recursive: true, mode: 0o755 });
    chmodSync(root, 0o755);
    writeFileSync(join(root, 'sub', 'mine'), 'mine\n', { mode: 0o644 });
    const { source, fd } = walkInRoot(root, 'sub', { links: 'refuse-escape' }, (resolved, handle) => ({ source: resolved, fd: pin(handle) }));
    // The learner's move after the kubelet's walk: the directory away, a link to /etc in its place.
    renameSync(join(root, 'sub'), join(root, 'moved'));
    symlinkSync('/etc', join(root, 'sub'));
    try {
      const sandboxed = await spawnSandboxed(
        { argv: ['/bin/sh', '-c', 'ls /data'], env: { PATH: '/usr/bin:/bin' }, hostname: 'pin', mounts: [{ source, target: '/data', readOnly: true, pinned: `/proc/${process.pid}/fd/${fd}` }] },
        support,
      );
      let stdout = '';
      sandboxed.onOutput((stream, data) => (stdout += stream === 'stdout' ? data.toString() : ''));
      sandboxed.endInput();
      await sandboxed.exited;
      expect(stdout).toBe('mine\n');
    } finally {
      closeSync(fd);
    }
  });

  it('keeps every answer inside the root while another process swaps a directory for a link to / as fast as it can', async () => {
    const root = join(lab.dir, 'race-root');
    const escapee = `formicary-race-${process.pid}`;
    mkdirSync(join(root, 'a'), { recursive: true });
    // The learner's side, in a process of its own: rename the directory away, put a link to / in
    // its place, swap back, for at most a million rounds (stopped once the walks are done).
    const swapper = spawn(process.execPath, [
      '-e',
      `const fs = require('node:fs'); process.chdir(${JSON.stringify(root)}); process.stdout.write('go\\n');
       const step = (f) => { try { f(); } catch {} };
       for (let i = 0; i < 1e6; i++) { step(() => fs.renameSync('a', 'b')); step(() => fs.symlinkSync('/', 'a')); step(() => fs.unlinkSync('a')); step(() => fs.renameSync('b', 'a')); }`,
    ]);
    const done = new Promise((resolve) => swapper.on('exit', resolve));
    await new Promise((resolve) => swapper.stdout.once('data', resolve));
    const real = realpathSync(root);
    let resolved = 0;
    let refused = 0;
    try {
      for (let i = 0; i < 3000; i++) {
        try {
          const path = resolveInRoot(root, `a/${escapee}`, { links: 'refuse-escape', create: { uid: 0, gid: 0, mode: 0o700 } });
          expect(path.startsWith(`${real}/`)).toBe(true);
          resolved++;
        } catch (error) {
          if (!(error instanceof PathEscape) && !(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
          refused++;
        }
      }
    } finally {
      swapper.kill('SIGKILL');
      await done;
    }
    expect(existsSync(`/${escapee}`)).toBe(false);
    expect(resolved + refused).toBe(3000);
    rmSync(root, { recursive: true, force: true });
  });
});
