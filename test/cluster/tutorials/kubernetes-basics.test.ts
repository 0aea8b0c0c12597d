// kubernetes.io "Learn Kubernetes Basics", modules 2 to 6 in order, one learner's session: the
// bootcamp Deployment is created, read through `kubectl proxy`, explored with exec (its env, and
// `cat server.js` and `curl` in a bash session), exposed on a
// NodePort, labelled, scaled with a LoadBalancer Service in front, updated to v2, broken with v10
// (which does not exist) and rolled back. Commands are the tutorial's; where it curls
// `$(minikube ip):$NODE_PORT` from the learner's laptop, the curl runs in a pod (nothing outside
// the cluster's network namespaces reaches a node here) against a node's InternalIP.
import { describe, expect, it } from 'vitest';
import { useConformanceCluster } from '../conformance/harness.ts';
import { addresses, expectResult, names, table } from '../conformance/output.ts';
import { KUBECTL, clientPod, eventually, inPod, kubectlProxy, nodeIPs, podsOf, settled } from './support.ts';

const c = useConformanceCluster();
const POD_NAMES = `{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}`;

describe('Learn Kubernetes Basics', () => {
  it('deploys, explores, exposes, scales and updates the bootcamp app as the modules show', { timeout: 240_000 }, async () => {
    const s = await c.sandbox('basics');
    const k = (...args: string[]) => s.kubectl(KUBECTL, args, { timeoutMs: 90_000 });

    // Module 2: Using kubectl to Create a Deployment.
    expect((await k('version')).stdout).toMatch(/^Client Version: v1\.33\.\d+\nKustomize Version: v[\d.]+\nServer Version: v1\.33\.\d+/);
    expect((await k('get', 'nodes')).stdout).toMatch(/^NAME +STATUS +ROLES +AGE +VERSION\nnode-1 +Ready +/);
    expectResult(await k('create', 'deployment', 'kubernetes-bootcamp', '--image=gcr.io/google-samples/kubernetes-bootcamp:v1'), { code: 0, stdout: 'deployment.apps/kubernetes-bootcamp created\n' });
    await settled(c, s, 'kubernetes-bootcamp', 1);
    expectResult(await k('get', 'deployments'), { code: 0, stdout: 'NAME                  READY   UP-TO-DATE   AVAILABLE   AGE\nkubernetes-bootcamp   1/1     1            1           <age>\n' }, table);

    const proxy = await kubectlProxy(s);
    try {
      const version = (await (await fetch(`${proxy.url}/version`)).json()) as { major: string; minor: string };
      expect(version).toMatchObject({ major: '1', minor: '33' });
      const podName = (await k('get', 'pods', '-o', 'go-template', '--template', POD_NAMES)).stdout.trim();
      expect(podName).toMatch(/^kubernetes-bootcamp-\w+-\w+$/);
      const answer = await fetch(`${proxy.url}/api/v1/namespaces/${s.namespace}/pods/${podName}:8080/proxy/`);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe(`Hello Kubernetes bootcamp! | Running on: ${podName} | v=1\n`);
      // A port nothing listens on: the API server's answer on a real cluster.
      const refused = await fetch(`${proxy.url}/api/v1/namespaces/${s.namespace}/pods/${podName}:8081/proxy/`);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { message: string }).message).toMatch(/^error trying to reach service: dial tcp 10\.244\.\d+\.\d+:8081: connect: connection refused$/);
    } finally {
      proxy.stop();
    }

    // Module 3: Viewing Pods and Nodes.
    const podName = (await k('get', 'pods', '-o', 'go-template', '--template', POD_NAMES)).stdout.trim();
    expectResult(await k('get', 'pods'), { code: 0, stdout: 'NAME                                   READY   STATUS    RESTARTS   AGE\nkubernetes-bootcamp-<hash>-<id>   1/1     Running   0          <age>\n' }, (out) =>
      table(names(out, 'kubernetes-bootcamp')),
    );
    const described = await k('describe', 'pods');
    expect(described.stdout).toMatch(/\nIP: +10\.244\.\d+\.\d+\n/);
    expect(described.stdout).toMatch(/\n {4}Image: +gcr\.io\/google-samples\/kubernetes-bootcamp:v1\n/);
    expect(described.stdout).toMatch(/\n {2}Normal +Started +\S+ +kubelet +Started container kubernetes-bootcamp\n/);
    const env = await k('exec', podName, '--', 'env');
    expect(env.code).toBe(0);
    expect(env.stdout.split('\n')).toEqual(expect.arrayContaining([`HOSTNAME=${podName}`, 'KUBERNETES_SERVICE_HOST=10.96.0.1']));
    // `kubectl exec -ti $POD_NAME -- bash`, then `cat server.js` (the app's source, in the image's
    // working directory) and `curl http://localhost:8080` typed in it.
    const session = await s.kubectl(KUBECTL, ['exec', '-i', podName, '--', 'bash'], { stdin: 'cat server.js\ncurl -s http://localhost:8080\nexit\n' });
    expect(session.code, session.stderr).toBe(0);
    const [source, answer] = session.stdout.split(/(?<=\n)(?=Hello Kubernetes bootcamp!)/);
    expect(source).toMatch(/^\/\/ The Kubernetes bootcamp app/);
    expect(source).toContain("response.end('Hello Kubernetes bootcamp! | Running on: ' + hostname + ' | v=1\\n');");
    expect(source).toContain('server.listen(8080');
    expect(answer).toBe(`Hello Kubernetes bootcamp! | Running on: ${podName} | v=1\n`);

    // Module 4: Using a Service to Expose Your App.
    // The case's own namespace stands in for `default`, which alone holds the `kubernetes` Service.
    expectResult(await k('get', 'services'), { code: 0, stdout: '', stderr: `No resources found in ${s.namespace} namespace.\n` });
    expectResult(await k('expose', 'deployment/kubernetes-bootcamp', '--type=NodePort', '--port', '8080'), { code: 0, stdout: 'service/kubernetes-bootcamp exposed\n' });
    const service = await k('describe', 'services/kubernetes-bootcamp');
    expect(service.stdout).toMatch(/\nType: +NodePort\n/);
    expect(service.stdout).toMatch(/\nNodePort: +<unset> +3\d{4}\/TCP\n/);
    await eventually('the Service has its endpoint', async () => /\nEndpoints: +10\.244\.\d+\.\d+:8080\n/.test((await k('describe', 'services/kubernetes-bootcamp')).stdout) || undefined);
    const nodePort = (await k('get', 'services/kubernetes-bootcamp', '-o', 'go-template={{(index .spec.ports 0).nodePort}}')).stdout;
    expect(nodePort).toMatch(/^3\d{4}$/);
    await clientPod(c, s, 'laptop', 'curlimages/curl');
    const [node] = nodeIPs(c);
    expectResult(await inPod(s, 'laptop', `curl -s http://${node}:${nodePort}`), { code: 0, stdout: `Hello Kubernetes bootcamp! | Running on: ${podName} | v=1\n` });

    expect((await k('describe', 'deployment')).stdout).toMatch(/\nLabels: +app=kubernetes-bootcamp\n/);
    expect((await k('get', 'pods', '-l', 'app=kubernetes-bootcamp')).stdout).toContain(`\n${podName} `);
    expectResult(await k('get', 'services', '-l', 'app=kubernetes-bootcamp'), {
      code: 0,
      stdout: 'NAME                  TYPE       CLUSTER-IP     EXTERNAL-IP   PORT(S)          AGE\nkubernetes-bootcamp   NodePort   <cluster-ip>   <none>        8080:<node-port>/TCP   <age>\n',
    }, (out) => table(addresses(out)));
    expectResult(await k('label', 'pods', podName, 'version=v1'), { code: 0, stdout: `pod/${podName} labeled\n` });
    expect((await k('describe', 'pods', podName)).stdout).toMatch(/\n {18}version=v1\n/);
    expect((await k('get', 'pods', '-l', 'version=v1', '-o', 'name')).stdout).toBe(`pod/${podName}\n`);
    expectResult(await k('delete', 'service', '-l', 'app=kubernetes-bootcamp'), { code: 0, stdout: 'service "kubernetes-bootcamp" deleted\n' });
    expect((await k('get', 'services')).stdout).not.toContain('kubernetes-bootcamp');
    // The route is gone: curl cannot connect (exit 7).
    expect((await inPod(s, 'laptop', `curl -s -m 5 http://${node}:${nodePort}`)).code).toBe(7);
    expectResult(await k('exec', podName, '--', 'curl', '-s', 'http://localhost:8080'), { code: 0, stdout: `Hello Kubernetes bootcamp! | Running on: ${podName} | v=1\n` });

    // Module 5: Running Multiple Instances of Your App (behind a LoadBalancer Service).
    expectResult(await k('expose', 'deployment/kubernetes-bootcamp', '--type=LoadBalancer', '--port', '8080'), { code: 0, stdout: 'service/kubernetes-bootcamp exposed\n' });
    // No cloud load balancer: the external IP stays pending, as on minikube without a tunnel.
    expect((await k('get', 'services', 'kubernetes-bootcamp')).stdout).toMatch(/\nkubernetes-bootcamp +LoadBalancer +10\.\d+\.\d+\.\d+ +<pending> +8080:3\d{4}\/TCP +/);
    expectResult(await k('get', 'rs'), { code: 0, stdout: /^NAME +DESIRED +CURRENT +READY +AGE\nkubernetes-bootcamp-\w{8,10} +1 +1 +1 +\d+s\n$/ });
    expectResult(await k('scale', 'deployments/kubernetes-bootcamp', '--replicas=4'), { code: 0, stdout: 'deployment.apps/kubernetes-bootcamp scaled\n' });
    await settled(c, s, 'kubernetes-bootcamp', 4);
    expectResult(await k('get', 'deployments'), { code: 0, stdout: 'NAME                  READY   UP-TO-DATE   AVAILABLE   AGE\nkubernetes-bootcamp   4/4     4            4           <age>\n' }, table);
    const wide = (await k('get', 'pods', '-l', 'app=kubernetes-bootcamp', '-o', 'wide', '--no-headers')).stdout.trim().split('\n');
    expect(new Set(wide.map((row) => row.split(/\s+/)[5])).size).toBe(4);
    expect((await k('describe', 'deployments/kubernetes-bootcamp')).stdout).toMatch(/Scaled up replica set kubernetes-bootcamp-\w+ from 1 to 4\n/);
    const lbPort = (await k('get', 'services/kubernetes-bootcamp', '-o', 'go-template={{(index .spec.ports 0).nodePort}}')).stdout;
    await eventually('the Service has four endpoints', async () => ((await k('get', 'endpoints', 'kubernetes-bootcamp', '-o', 'jsonpath={.subsets[0].addresses[*].ip}')).stdout.split(' ').length === 4) || undefined);
    const answers = (await inPod(s, 'laptop', `for i in $(seq 1 16); do curl -s http://${node}:${lbPort}; done`)).stdout.trim().split('\n');
    expect(answers).toHaveLength(16);
    for (const line of answers) expect(line).toMatch(/^Hello Kubernetes bootcamp! \| Running on: kubernetes-bootcamp-\w+-\w+ \| v=1$/);
    // Load-balanced: more than one pod answered.
    expect(new Set(answers).size).toBeGreaterThan(1);
    expectResult(await k('scale', 'deployments/kubernetes-bootcamp', '--replicas=2'), { code: 0, stdout: 'deployment.apps/kubernetes-bootcamp scaled\n' });
    await settled(c, s, 'kubernetes-bootcamp', 2);
    expect((await k('get', 'pods', '-l', 'app=kubernetes-bootcamp', '-o', 'wide', '--no-headers')).stdout.trim().split('\n')).toHaveLength(2);

    // Module 6: Performing a Rolling Update.
    expectResult(await k('set', 'image', 'deployments/kubernetes-bootcamp', 'kubernetes-bootcamp=docker.io/jocatalin/kubernetes-bootcamp:v2'), { code: 0, stdout: 'deployment.apps/kubernetes-bootcamp image updated\n' });
    expectResult(await k('rollout', 'status', 'deployments/kubernetes-bootcamp'), { code: 0, stdout: /deployment "kubernetes-bootcamp" successfully rolled out\n$/ });
    await settled(c, s, 'kubernetes-bootcamp', 2);
    await eventually('two v2 endpoints', async () => ((await k('get', 'endpoints', 'kubernetes-bootcamp', '-o', 'jsonpath={.subsets[0].addresses[*].ip}')).stdout.split(' ').length === 2) || undefined);
    for (const line of (await inPod(s, 'laptop', `for i in 1 2 3 4; do curl -s http://${node}:${lbPort}; done`)).stdout.trim().split('\n')) expect(line).toMatch(/ \| v=2$/);
    expect((await k('describe', 'pods', '-l', 'app=kubernetes-bootcamp')).stdout.match(/ {4}Image: +\S+/g)).toEqual(['    Image:          docker.io/jocatalin/kubernetes-bootcamp:v2', '    Image:          docker.io/jocatalin/kubernetes-bootcamp:v2']);

    await k('set', 'image', 'deployments/kubernetes-bootcamp', 'kubernetes-bootcamp=gcr.io/google-samples/kubernetes-bootcamp:v10');
    await c.until('a pod in ImagePullBackOff', () => podsOf(c, s, 'app=kubernetes-bootcamp').some((p) => p['status']?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'));
    // "the output doesn't list the desired number of available Pods"
    expect((await k('get', 'deployments')).stdout).toMatch(/\nkubernetes-bootcamp +[0-2]\/2 +\d +[0-2] +/);
    expect((await k('get', 'pods')).stdout).toMatch(/\nkubernetes-bootcamp-\w+-\w+ +0\/1 +ImagePullBackOff +0 +/);
    const affected = (await k('get', 'pods', '--field-selector', 'status.phase=Pending', '-o', 'go-template', '--template', POD_NAMES)).stdout.trim().split('\n');
    expect(affected.length).toBeGreaterThan(0);
    const events = (await k('describe', 'pod', affected[0] ?? '')).stdout;
    expect(events).toContain(
      'Failed to pull image "gcr.io/google-samples/kubernetes-bootcamp:v10": rpc error: code = NotFound desc = failed to pull and unpack image "gcr.io/google-samples/kubernetes-bootcamp:v10": failed to resolve reference "gcr.io/google-samples/kubernetes-bootcamp:v10": gcr.io/google-samples/kubernetes-bootcamp:v10: not found',
    );
    expectResult(await k('rollout', 'undo', 'deployments/kubernetes-bootcamp'), { code: 0, stdout: 'deployment.apps/kubernetes-bootcamp rolled back\n' });
    await settled(c, s, 'kubernetes-bootcamp', 2);
    expect((await k('describe', 'pods', '-l', 'app=kubernetes-bootcamp')).stdout.match(/ {4}Image: +\S+/g)).toEqual(['    Image:          docker.io/jocatalin/kubernetes-bootcamp:v2', '    Image:          docker.io/jocatalin/kubernetes-bootcamp:v2']);
    expectResult(await k('delete', 'deployments/kubernetes-bootcamp', 'services/kubernetes-bootcamp'), {
      code: 0,
      stdout: 'deployment.apps "kubernetes-bootcamp" deleted\nservice "kubernetes-bootcamp" deleted\n',
    });
  });
});
