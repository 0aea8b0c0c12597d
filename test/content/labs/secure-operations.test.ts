// The labs of "Secure operations" against learners' plausible wrong answers and right
// alternatives (see attempts.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllPassed, failures, startLabBench, type LabBench } from './attempts.ts';

let bench: LabBench;

beforeAll(async () => {
  bench = await startLabBench();
}, 60_000);
afterAll(async () => {
  await bench?.stop();
});

describe.concurrent('secure-operations labs', () => {
  it('pod-security-restricted: runAsNonRoot without a user, or a template without seccomp, fails; everything on the container passes; the wiki toolbox is refused', async () => {
    await bench.attempt('pod-security-restricted', async (lab) => {
      await lab.run('echo "pods are forbidden" > ~/refusal.txt');
      expect(failures(await lab.check('read-the-refusal'))).toEqual([
        '~/refusal.txt does not hold a Pod Security refusal; copy the whole message of one FailedCreate event of shop\'s ReplicaSet (it contains violates PodSecurity "restricted:latest").',
      ]);
      await lab.reach('fix-the-template');

      // Container fields only: the restricted level still wants runAsNonRoot and seccomp, so no pod is admitted.
      await lab.run(`kubectl patch deployment shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"shop","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}'`);
      const partial = failures(await lab.check('fix-the-template'));
      expect(partial).toContain("Container shop of shop does not say runAsNonRoot: true (on the pod's or its own securityContext); the restricted level refuses it.");
      expect(partial).toContain('The Deployment shop has not rolled out; its new pods are probably still refused. Look at the newest ReplicaSet\'s events (kubectl describe replicaset -l app=shop) for what the restricted level still finds.');

      // Admitted, but a real node would refuse to start a root image under runAsNonRoot.
      await lab.run(`kubectl patch deployment shop -p '{"spec":{"template":{"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}}}}}}'`);
      await lab.run('kubectl rollout status deployment shop --timeout=120s');
      expect(failures(await lab.check('fix-the-template', 60_000))).toEqual([
        "Container shop of shop says runAsNonRoot but no runAsUser, and formicary/demo-web's image has no USER: it would run as root, so a real node refuses to start it (CreateContainerConfigError: container has runAsNonRoot and image will run as root). Set runAsUser to a non-zero uid such as 10001.",
      ]);

      // Everything on the container instead of the pod is as good.
      await lab.run(`kubectl patch deployment shop --type=json -p '[{"op":"remove","path":"/spec/template/spec/securityContext"},{"op":"replace","path":"/spec/template/spec/containers/0/securityContext","value":{"runAsNonRoot":true,"runAsUser":2000,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}}]'`);
      await lab.run('kubectl rollout status deployment shop --timeout=120s');
      expectAllPassed(await lab.check('fix-the-template', 60_000));

      // The wiki's toolbox is refused outright; so is one that only drops privileged and hostNetwork.
      const wiki = await lab.tryRun('kubectl apply -f ~/toolbox.yaml');
      expect(wiki.exitCode).not.toBe(0);
      expect(wiki.stderr).toContain('violates PodSecurity "restricted:latest"');
      expect(wiki.stderr).toContain('host namespaces (hostNetwork)');
      const halfway = await lab.tryRun("sed -e '/hostNetwork/d' -e '/privileged/d' ~/toolbox.yaml | kubectl apply -f -");
      expect(halfway.stderr).toContain('restricted volume types (volume "host-logs" uses restricted volume type "hostPath")');
      expect(failures(await lab.check('fix-the-toolbox'))[0]).toBe(
        'There is no pod toolbox yet. Apply a version of ~/toolbox.yaml without the host\'s network, privileges, added capabilities and hostPath, and with the restricted level\'s securityContext.',
      );
      // Admitted without a user: busybox's image runs as root.
      const pod = (user: string) => `kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: toolbox
spec:
  containers:
    - name: toolbox
      image: busybox:1.37
      command: ["sleep", "3600"]
      securityContext:
        runAsNonRoot: true${user}
        allowPrivilegeEscalation: false
        capabilities:
          drop: ["ALL"]
        seccompProfile:
          type: RuntimeDefault
YAML`;
      await lab.run(pod(''));
      expect(failures(await lab.check('fix-the-toolbox'))).toContain(
        "busybox's image runs as root: container toolbox of toolbox needs a non-zero runAsUser, or a real node refuses to start it under runAsNonRoot.",
      );
      await lab.run('kubectl delete pod toolbox --wait=true');
      await lab.run(pod('\n        runAsUser: 65534'));
      expectAllPassed(await lab.check('fix-the-toolbox', 60_000));
    });
  }, 400_000);
});
