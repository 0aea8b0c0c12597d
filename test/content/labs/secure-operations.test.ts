// The labs of "Secure operations" against learners' plausible wrong answers and right
// alternatives (see attempts.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllPassed, failures, settledFailures, startLabBench, type LabBench } from './attempts.ts';

let bench: LabBench;

const NS = "$(kubectl config view --minify -o jsonpath='{..namespace}')";

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

  it('service-account-tokens: a ServiceAccount nobody runs as, a token turned off but pods not replaced, or off for report too, fail; default\'s setting plus a restart passes; hour-long and legacy tokens fail', async () => {
    await bench.attempt('service-account-tokens', async (lab) => {
      await lab.run('kubectl create serviceaccount reporter');
      expect(failures(await lab.check('own-identity'))).toEqual(['The pods of report do not run as reporter yet; the pod template\'s serviceAccountName chooses the identity.']);
      await lab.run('kubectl delete serviceaccount reporter');
      await lab.reach('no-token');

      // Turned off on the wrong ServiceAccount: report loses its token, web keeps its own.
      await lab.run(`kubectl patch serviceaccount reporter -p '{"automountServiceAccountToken":false}' && kubectl rollout restart deployment report && kubectl rollout status deployment report --timeout=120s`);
      const wrongAccount = failures(await lab.check('no-token'));
      expect(wrongAccount).toHaveLength(2);
      expect(wrongAccount[0]).toMatch(/^2 of 2 web pods still have a token mounted \(web-[a-z0-9]+-[a-z0-9]+: kube-api-access-[a-z0-9]+; web-/);
      expect(wrongAccount[1]).toBe("report has lost its token, and it needs it to call the API. Turn the mount off for web only (web's pod template, or a ServiceAccount of web's own), not for report's ServiceAccount.");
      await lab.run(`kubectl patch serviceaccount reporter -p '{"automountServiceAccountToken":null}' && kubectl rollout restart deployment report && kubectl rollout status deployment report --timeout=120s`);

      // On web's own ServiceAccount (default): right, but only new pods follow.
      await lab.run(`kubectl patch serviceaccount default -p '{"automountServiceAccountToken":false}'`);
      expect(failures(await lab.check('no-token'))[0]).toContain('A pod\'s volumes are fixed when it is created');
      await lab.run('kubectl rollout restart deployment web && kubectl rollout status deployment web --timeout=120s');
      expectAllPassed(await lab.check('no-token', 60_000));

      // The default hour, then the legacy Secret token, then whoami as oneself.
      await lab.run('kubectl create token ci > ~/ci-token');
      expect(failures(await lab.check('short-lived'))).toContain('~/ci-token is valid for 60 minutes; this step asks for 30 or less (kubectl create token --duration).');
      await lab.run(`kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: ci-token
  annotations:
    kubernetes.io/service-account.name: ci
type: kubernetes.io/service-account-token
YAML`);
      await lab.run("for i in $(seq 1 30); do t=$(kubectl get secret ci-token -o jsonpath='{.data.token}'); [ -n \"$t\" ] && break; sleep 1; done; echo \"$t\" | base64 -d > ~/ci-token");
      await lab.run('kubectl auth whoami > ~/ci-whoami.txt');
      expect(failures(await lab.check('short-lived'))).toEqual([
        '~/ci-token never expires: it is a legacy token from a kubernetes.io/service-account-token Secret, valid until the Secret is deleted. Ask the TokenRequest API for one instead (kubectl create token) and delete the Secret.',
        `kubectl auth whoami says system:serviceaccount:${lab.namespace}:learner: that is who you are, not the pipeline. Ask as the kubeconfig user that holds ci's token (kubectl auth whoami --user=ci).`,
      ]);
      await lab.run('kubectl delete secret ci-token');
      await lab.run('kubectl create token ci --duration=15m > ~/ci-token && kubectl config set-credentials pipeline --token="$(cat ~/ci-token)" && kubectl auth whoami --user=pipeline -o yaml > ~/ci-whoami.txt');
      expectAllPassed(await lab.check('short-lived'));
    });
  }, 400_000);

  it('rbac-team-role: the refusal must be saved from standard error; binding edit or a Role on all of apps fails; a Role of another name built with kubectl passes', async () => {
    await bench.attempt('rbac-team-role', async (lab) => {
      await lab.tryRun(`kubectl create rolebinding deployer-admin --clusterrole=cluster-admin --serviceaccount=${NS}:deployer > ~/refused.txt`);
      expect(failures(await lab.check('refused'))).toEqual(["~/refused.txt does not hold the API server's refusal. kubectl prints errors on standard error: redirect it with 2> ~/refused.txt."]);
      const refusal = await lab.tryRun(`kubectl create rolebinding deployer-admin --clusterrole=cluster-admin --serviceaccount=${NS}:deployer`);
      expect(refusal.exitCode).toBe(1);
      expect(refusal.stderr).toContain(`is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}`);
      await lab.reach('team-role');

      // The learner holds edit, so binding it is allowed, and grants far too much.
      await lab.run(`kubectl create rolebinding deployer --clusterrole=edit --serviceaccount=${NS}:deployer`);
      expect(failures(await lab.check('team-role'))).toEqual([
        `deployer → ClusterRole edit: the deployer is bound to a ClusterRole, whose rules were written for everyone who needs it. Bind it to a Role written for the pipeline, and delete this binding.`,
        'The deployer may delete Deployments; a pipeline that updates images never needs to.',
        'The deployer may change StatefulSets; its Role should name deployments, not every resource of the apps group.',
        'The deployer may read Secrets, and with them every password in the namespace. Bind it to your own Role, not to a broad one such as edit.',
        'The deployer may list ConfigMaps; it needs Deployments and pods only.',
        'The deployer may exec into pods, which means running any command as them; the pipeline only reads logs.',
      ]);
      await lab.run('kubectl delete rolebinding deployer');

      // A wildcard on apps is more than the learner holds (edit has no update on controllerrevisions), so it is refused too.
      const wildcard = await lab.tryRun(`kubectl create role payments-pipeline --verb=get,list,watch,update,patch --resource='*.apps'`);
      expect(wildcard.stderr).toContain('{APIGroups:["apps"], Resources:["*"], Verbs:["get" "list" "watch" "update" "patch"]}');
      // "All the workloads": StatefulSets and DaemonSets come with it.
      await lab.run(`kubectl create role payments-pipeline --verb=get,list,watch,update,patch --resource=deployments.apps,statefulsets.apps,daemonsets.apps`);
      await lab.run(`kubectl patch role payments-pipeline --type=json -p '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["pods"],"verbs":["get","list","watch"]}},{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["pods/log"],"verbs":["get"]}}]'`);
      await lab.run(`kubectl create rolebinding payments-pipeline --role=payments-pipeline --serviceaccount=${NS}:deployer`);
      expect(failures(await lab.check('team-role'))).toEqual(['The deployer may change StatefulSets; its Role should name deployments, not every resource of the apps group.']);

      await lab.run(`kubectl patch role payments-pipeline --type=json -p '[{"op":"replace","path":"/rules/0/resources","value":["deployments"]}]'`);
      expectAllPassed(await lab.check('team-role'));
    });
  }, 400_000);

  it('security-context-hardening: a read-only root without /tmp, or a read-only /tmp, fails; a memory emptyDir at /tmp/ passes; a forgotten init container fails, hardening it on its own passes', async () => {
    await bench.attempt('security-context-hardening', async (lab) => {
      await lab.run(`kubectl patch deployment api -p '{"spec":{"template":{"spec":{"containers":[{"name":"api","securityContext":{"readOnlyRootFilesystem":true}}]}}}}' && kubectl rollout status deployment api --timeout=120s`);
      expect(failures(await lab.check('read-only'))).toEqual([
        'The root file system is read-only, and /tmp with it: on a real node demo-web would fail on its first scratch file (Read-only file system). Mount an emptyDir at /tmp.',
      ]);
      await lab.run(`kubectl patch deployment api -p '{"spec":{"template":{"spec":{"volumes":[{"name":"scratch","emptyDir":{"medium":"Memory","sizeLimit":"32Mi"}}],"containers":[{"name":"api","volumeMounts":[{"name":"scratch","mountPath":"/tmp/","readOnly":true}]}]}}}}' && kubectl rollout status deployment api --timeout=120s`);
      expect(failures(await lab.check('read-only'))).toEqual(['The volume at /tmp is mounted read-only; the scratch files need it writable.']);
      await lab.run(`kubectl patch deployment api --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/volumeMounts/0/readOnly"}]'`);
      await lab.run('kubectl rollout status deployment api --timeout=120s');
      expectAllPassed(await lab.check('read-only', 60_000));

      // Only the init container's own two fields: the restricted level still wants a user and seccomp.
      await lab.run(`kubectl patch deployment worker -p '{"spec":{"template":{"spec":{"initContainers":[{"name":"migrate","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}'`);
      const partial = failures(await lab.check('every-container'));
      expect(partial[0]).toBe('Not every container of worker is hardened: migrate: no runAsNonRoot.');
      expect(partial).toContain("The Deployment worker has not rolled out; look at its newest ReplicaSet's FailedCreate events for the container the restricted level still refuses.");
      // Admitted, but busybox runs as root: under runAsNonRoot the kubelet refuses to start migrate, as a real node does.
      await lab.run(`kubectl patch deployment worker -p '{"spec":{"template":{"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}}}}}}'`);
      const waiting = "kubectl get pods -l app=worker -o jsonpath='{.items[*].status.initContainerStatuses[0].state.waiting.message}'";
      const refused = await lab.run(`for i in $(seq 1 240); do ${waiting} | grep -q 'image will run as root' && break; sleep 0.5; done; ${waiting}`);
      expect(refused.stdout).toMatch(/container has runAsNonRoot and image will run as root \(pod: "worker-[^"]+", container: migrate\)/);
      expect(failures(await lab.check('every-container'))).toEqual([
        'Not every container of worker is hardened: migrate: runAsNonRoot without a non-zero runAsUser (its image runs as root, so a real node would refuse to start it).',
        "The Deployment worker has not rolled out; look at its newest ReplicaSet's FailedCreate events for the container the restricted level still refuses.",
        expect.any(String),
      ]);
      await lab.run(`kubectl patch deployment worker -p '{"spec":{"template":{"spec":{"initContainers":[{"name":"migrate","securityContext":{"runAsUser":3000}}]}}}}'`);
      await lab.run('kubectl rollout status deployment worker --timeout=120s');
      expectAllPassed(await lab.check('every-container', 60_000));
    });
  }, 400_000);

  it('secrets-done-right: base64 text fails; secretKeyRef keeps the password in the environment and fails; a differently named volume with items passes; keeping list, or get on every Secret, fails; rewriting the Role passes', async () => {
    await bench.attempt('secrets-done-right', async (lab) => {
      await lab.run("kubectl get secret payments-db -o jsonpath='{.data.password}' > ~/password.txt");
      expect(failures(await lab.check('not-encrypted'))).toEqual(['~/password.txt holds the base64 text; decode it with base64 -d.']);
      await lab.reach('mount-it');

      // The foundations way: better than a typed value, still the environment.
      await lab.run('kubectl set env deployment/payments DB_PASSWORD- && kubectl set env deployment/payments --from=secret/payments-db --keys=password --prefix=DB_ && kubectl set env deployment/payments DB_USER=payments && kubectl rollout status deployment payments --timeout=120s');
      const env = failures(await lab.check('mount-it'));
      expect(env[0]).toBe('The credentials still reach payments through its environment. secretKeyRef at least keeps the password out of the Deployment, but this step asks for files: remove DB_USER and DB_PASSWORD and mount payments-db at /etc/payments-db.');
      expect(env).toHaveLength(2);

      await lab.run(`kubectl patch deployment payments --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/env"},{"op":"add","path":"/spec/template/spec/volumes","value":[{"name":"credentials","secret":{"secretName":"payments-db","defaultMode":256,"items":[{"key":"username","path":"username"},{"key":"password","path":"password"}]}}]},{"op":"add","path":"/spec/template/spec/containers/0/volumeMounts","value":[{"name":"credentials","mountPath":"/etc/payments-db","readOnly":true}]}]'`);
      await lab.run('kubectl rollout status deployment payments --timeout=120s');
      expectAllPassed(await lab.check('mount-it', 60_000));

      // A narrow Role beside the old binding: list and watch still hand out every Secret.
      await lab.run(`kubectl create role dashboard-tls-reader --verb=get --resource=secrets --resource-name=dashboard-tls && kubectl create rolebinding dashboard-reads-tls --role=dashboard-tls-reader --serviceaccount=${NS}:dashboard`);
      expect(failures(await lab.check('who-can-read'))).toEqual([
        'The dashboard may still list Secrets, which returns every Secret with its data. Take list away (delete or change the secret-finder Role, or its binding).',
        'The dashboard may still watch Secrets, which streams every Secret with its data.',
      ]);
      await lab.run('kubectl delete rolebinding dashboard-reads-tls && kubectl delete role dashboard-tls-reader');
      // get on every Secret instead of list: still every Secret.
      await lab.run(`kubectl patch role secret-finder --type=json -p '[{"op":"replace","path":"/rules/0/verbs","value":["get"]}]'`);
      expect(failures(await lab.check('who-can-read'))).toEqual(['The dashboard may read payments-db; restrict its get with resourceNames to dashboard-tls.']);
      await lab.run(`kubectl patch role secret-finder --type=json -p '[{"op":"add","path":"/rules/0/resourceNames","value":["dashboard-tls"]}]'`);
      expectAllPassed(await lab.check('who-can-read'));
    });
  }, 400_000);

  it('network-policy-tiers: a default deny beside the sandbox policy, a wrong label, an open api and egress without DNS fail; named ports and matchExpressions pass', async () => {
    await bench.attempt('network-policy-tiers', async (lab) => {
      const apply = (yaml: string) => lab.run(`kubectl apply -f - <<'YAML'\n${yaml}\nYAML\nsleep 10`);
      await apply('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]');
      const additive = failures(await lab.check('default-deny'));
      // Which pairs are listed depends on the probes' latest lines (one may have timed out under load); the reason may not.
      expect(additive[0]).toMatch(/^(web|api|ledger|batch) → .* gets? an answer, still: the policy same-namespace-only admits traffic to every pod, and policies add up/);
      await lab.run('kubectl delete networkpolicy same-namespace-only && sleep 10');
      expectAllPassed(await lab.check('default-deny', 30_000));

      // api's policy names a label no pod has: the shop's own traffic is dropped.
      await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: storefront
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: frontend}}}]
      ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ledger
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [ledger]}]}
  ingress:
    - from: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}}]
      ports: [{port: http}]`);
      const wrongLabel = ['web → api gets no answer, and the shop needs it: the policy for api must allow pods labelled app=web on port 8080 (check its podSelector, from and ports).'];
      expect(await settledFailures(lab, 'allow-tiers', wrongLabel)).toEqual(wrongLabel);
      // An empty podSelector peer: every pod of the namespace, batch included.
      await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from: [{podSelector: {}}]
      ports: [{port: 8080}]`);
      const everyPod = ['ledger → api and batch → api get an answer; only web may reach api. A policy allows more than it should (a from with no peers, or a podSelector: {} peer, matches every pod).'];
      expect(await settledFailures(lab, 'allow-tiers', everyPod)).toEqual(everyPod);
      await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: http}]`);
      expectAllPassed(await lab.check('allow-tiers', 30_000));

      // Egress to ledger only: the name ledger no longer resolves.
      const egress = (dns: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-out
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: ledger}}}]
      ports: [{port: 8080}]${dns}`;
      await apply(egress(''));
      const noDns = ['api → ledger gets no answer because api can no longer resolve the name ledger (its lookups are dropped too): its egress must also allow DNS, UDP and TCP port 53 to the pods labelled k8s-app=kube-dns in kube-system.'];
      expect(await settledFailures(lab, 'api-egress', noDns)).toEqual(noDns);
      await apply(egress(`
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
      ports: [{port: 53, protocol: UDP}]`));
      expectAllPassed(await lab.check('api-egress', 30_000));
    });
  }, 400_000);

  it('image-provenance: a version tag fails, tag plus digest passes; a pull secret nobody references fails, one on the ServiceAccount passes after new pods', async () => {
    await bench.attempt('image-provenance', async (lab) => {
      await lab.run('kubectl set image deployment/shop shop=formicary/demo-web:1.1 && kubectl rollout status deployment shop --timeout=120s');
      expect(failures(await lab.check('pin-digest'))).toEqual([
        'The image of shop is not pinned by digest yet; a tag such as :latest or :1.1 can be moved to another image. Use formicary/demo-web@sha256:… as the pod\'s imageID gives it.',
      ]);
      await lab.run(`kubectl set image deployment/shop shop="formicary/demo-web:1.1@$(kubectl get pods -l app=shop -o jsonpath='{.items[0].status.containerStatuses[0].imageID}' | cut -d@ -f2)"`);
      expectAllPassed(await lab.check('pin-digest', 60_000));

      await lab.run('kubectl create secret docker-registry registry-creds --docker-server=docker.io --docker-username=billing-ci --docker-password=robot-7c1e');
      expect(failures(await lab.check('pull-secret'))).toEqual([
        'billing has not rolled out; its pods still cannot pull the image. Do they use registry-creds (imagePullSecrets on the pod, or on its ServiceAccount), and were they created after you added it?',
      ]);
      await lab.run(`kubectl patch serviceaccount default -p '{"imagePullSecrets":[{"name":"registry-creds"}]}' && kubectl rollout restart deployment billing`);
      expectAllPassed(await lab.check('pull-secret', 90_000));
    });
  }, 400_000);

  it('secure-ops-audit: over-fixing support-bot, a Secret reference without a securityContext, and a version tag fail; a rewritten Role, a mounted password and a digest pass', async () => {
    await bench.attempt('secure-ops-audit', async (lab) => {
      const before = failures(await lab.check('audit'));
      expect(before).toHaveLength(5);
      await lab.run('kubectl delete rolebinding everyone-edits');
      await lab.run('kubectl delete role support');
      await lab.run(`kubectl set env deployment/orders DB_PASSWORD- && kubectl set env deployment/orders --from=secret/orders-db --keys=password --prefix=DB_`);
      await lab.run('kubectl set image deployment/storefront storefront=formicary/demo-web:1.1');
      await lab.run('kubectl rollout status deployment orders --timeout=120s && kubectl rollout status deployment storefront --timeout=120s');
      expect(failures(await lab.check('audit'))).toEqual([
        'RBAC: support-bot can no longer read pods and their logs, and the support team needs that. Remove only what it should not have.',
        'Pod security: a Deployment would be refused at the restricted level (orders may run as root; orders may escalate privileges; orders keeps capabilities; orders has no seccomp profile).',
        'Images: one Deployment runs a tag that moves with every release. Pin it by the digest it runs today.',
      ]);
      await lab.run(`kubectl apply -f - <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: support
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get", "list", "watch"]
  - apiGroups: [""]
    resources: ["pods/log"]
    verbs: ["get"]
YAML`);
      await lab.run(`kubectl patch deployment orders --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/env"},{"op":"add","path":"/spec/template/spec/volumes","value":[{"name":"db","secret":{"secretName":"orders-db"}}]},{"op":"add","path":"/spec/template/spec/containers/0/volumeMounts","value":[{"name":"db","mountPath":"/etc/orders-db","readOnly":true}]},{"op":"add","path":"/spec/template/spec/containers/0/securityContext","value":{"runAsNonRoot":true,"runAsUser":4000,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}}]'`);
      await lab.run(`kubectl rollout status deployment storefront --timeout=120s && kubectl set image deployment/storefront storefront="$(kubectl get pods -l app=storefront -o jsonpath='{.items[0].status.containerStatuses[0].imageID}')"`);
      await lab.run('kubectl rollout status deployment orders --timeout=120s && kubectl rollout status deployment storefront --timeout=120s');
      expectAllPassed(await lab.check('audit', 60_000));
    });
  }, 400_000);
});
