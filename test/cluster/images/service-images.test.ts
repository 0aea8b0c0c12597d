// Service images honour the pod spec: a command or args naming another program than the image's
// server runs for real (`kubectl run --image=nginx -- env`), the server's own command keeps the
// simulated server, and nginx serves the files of the volumes in /usr/share/nginx/html (a
// ConfigMap, an emptyDir an init container filled) or its own page, with kubectl as the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';

let lab: KubeletCluster;
const ns = 'services';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.apply(
    `apiVersion: v1
kind: ConfigMap
metadata: {name: site}
data:
  index.html: "<h1>from a ConfigMap</h1>\\n"
  about.html: "about us\\n"
---
apiVersion: v1
kind: Pod
metadata: {name: configured}
spec:
  containers:
  - name: web
    image: nginx:1.27
    volumeMounts: [{name: site, mountPath: /usr/share/nginx/html}]
  volumes: [{name: site, configMap: {name: site}}]
---
apiVersion: v1
kind: Pod
metadata: {name: prepared}
spec:
  initContainers:
  - {name: fill, image: busybox, command: [sh, -c, 'echo "made by $(hostname)" > /work/index.html; ln -s /etc/shadow /work/leak.html'], volumeMounts: [{name: www, mountPath: /work}]}
  containers:
  - {name: web, image: nginx:1.27, volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]}
  volumes: [{name: www, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers:
  - {name: web, image: nginx:1.27, command: [nginx, -g, 'daemon off;']}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - {name: shell, image: debian:12, command: [sleep, '3600']}
`,
    ns,
  );
  await lab.until('the pods Running', () => ['configured', 'prepared', 'plain', 'client'].every((name) => phase(lab.pod(ns, name)) === 'Running'), 30_000);
});
afterAll(async () => {
  await lab?.stop();
});

function get(pod: string, path: string) {
  const ip = (lab.pod(ns, pod)?.status as { podIP?: string } | undefined)?.podIP ?? '';
  return lab.kubectl(['exec', '-n', ns, 'client', '--', 'curl', '-s', '-w', ' %{http_code}', `http://${ip}${path}`]);
}

describe('nginx serves its html directory', () => {
  it("serves a ConfigMap's files, and its 404 page for what is not there", async () => {
    expect((await get('configured', '/')).stdout).toBe('<h1>from a ConfigMap</h1>\n 200');
    expect((await get('configured', '/about.html')).stdout).toBe('about us\n 200');
    const missing = (await get('configured', '/missing.html')).stdout;
    expect(missing).toContain('<center><h1>404 Not Found</h1></center>');
    expect(missing).toMatch(/<hr><center>nginx\/1\.27<\/center>[\s\S]* 404$/);
  });

  it('serves what an init container wrote, and never follows a link out of the volume', async () => {
    expect((await get('prepared', '/index.html')).stdout).toBe('made by prepared\n 200');
    expect((await get('prepared', '/leak.html')).stdout).toMatch(/404 Not Found[\s\S]* 404$/);
    expect((await get('prepared', '/../../../etc/passwd')).stdout).toMatch(/ 404$/);
  });

  it('keeps its own welcome page without a volume, and its own command keeps the server', async () => {
    expect((await get('plain', '/')).stdout).toContain('<h1>Welcome to nginx!</h1>');
    const logs = await lab.kubectl(['logs', '-n', ns, 'plain']);
    expect(logs.stdout).toContain('Configuration complete; ready for start up');
  });
});

describe.each(['1.33'])('a command for a service image with kubectl %s', (version) => {
  it('kubectl run --image=nginx --rm -i -- env prints the environment and exits, and the pod is gone', async () => {
    const result = await lab.kubectl(['run', 'once', '-n', ns, '--image=nginx', '--restart=Never', '-i', '--rm', '--', 'env'], { binary: versionedKubectl(version), timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^HOSTNAME=once$/m);
    expect(result.stdout).toMatch(/^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
    expect(result.stdout).toContain('pod "once" deleted');
    await lab.until('the pod gone', () => lab.pod(ns, 'once') === undefined);
  });

  it('runs a Job whose command is a shell in the image, to completion', async () => {
    await lab.apply(
      `apiVersion: batch/v1
kind: Job
metadata: {name: count}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: count, image: redis:7-alpine, command: [sh, -c, 'grep PRETTY_NAME /etc/os-release; echo done']}
`,
      ns,
    );
    const done = await lab.eventually('the Job complete', async () => {
      const status = await lab.kubectl(['get', 'job', 'count', '-n', ns, '-o', 'jsonpath={.status.succeeded}'], { binary: versionedKubectl(version) });
      return status.stdout === '1' ? status : undefined;
    }, 30_000);
    expect(done.stdout).toBe('1');
    const logs = await lab.kubectl(['logs', '-n', ns, 'job/count'], { binary: versionedKubectl(version) });
    expect(logs.stdout).toBe('PRETTY_NAME="Alpine Linux v3.22"\ndone\n');
  });
});
