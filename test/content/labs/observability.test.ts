// The labs of "Observability and troubleshooting" against learners' plausible wrong answers and
// right alternatives (see attempts.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllPassed, failures, startLabBench, type LabBench } from './attempts.ts';

let bench: LabBench;

beforeAll(async () => {
  bench = await startLabBench();
}, 60_000);
afterAll(async () => {
  await bench?.stop();
});

describe.concurrent('observability labs', () => {
  it('obs-first-look: the pod status instead of the event reason fails; a nodeSelector removed by edit passes; dropping the requests fails, a right-sized request passes', async () => {
    await bench.attempt('obs-first-look', async (lab) => {
      await lab.run('echo Pending > ~/reports-reason.txt');
      expect(failures(await lab.check('pending'))).toEqual([
        "Pending is the pod's phase: it says that the pod waits, not why. Write the REASON of the Warning event in the pod's events.",
        'The reports pod is not running and Ready yet. Its events say what the scheduler looks for; the Deployment\'s pod template is where that comes from.',
      ]);
      // A lower-case answer and a fix by editing the template (sed over the YAML, as kubectl edit would save it).
      await lab.run('printf "failedscheduling\\n" > ~/reports-reason.txt');
      await lab.run("kubectl get deployment reports -o yaml | sed -e '/nodeSelector:/d' -e '/disktype: ssd/d' | kubectl replace -f -");
      expectAllPassed(await lab.check('pending', 90_000));

      // No requests at all: the pod runs (the LimitRange gives it 64Mi) but is not sized for its peak.
      await lab.run(`kubectl patch deployment invoices --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/resources"}]'`);
      await lab.run('kubectl rollout status deployment/invoices --timeout=90s');
      expect(failures(await lab.check('no-pods'))).toEqual([
        'The invoices container should request at least the 300Mi it uses at peak. A smaller request (or none, which the namespace\'s LimitRange turns into 64Mi) lets the scheduler put it on a node that cannot give it that memory.',
        "The invoices container's memory limit is below the 300Mi it uses at peak; at its peak the kernel would kill it (OOMKilled).",
      ]);
      await lab.run('kubectl set resources deployment invoices --requests=cpu=100m,memory=320Mi --limits=cpu=200m,memory=512Mi');
      await lab.run('kubectl rollout status deployment/invoices --timeout=90s');
      expectAllPassed(await lab.check('no-pods', 60_000));
    });
  }, 300_000);
  it('obs-logs: the StatefulSet or a healthy pod fails, pod/NAME passes; the current audit log fails, the whole previous log passes', async () => {
    await bench.attempt('obs-logs', async (lab) => {
      await lab.run('kubectl rollout status statefulset/checkout --timeout=90s && sleep 8');
      await lab.run('echo checkout > ~/failing-pod.txt');
      expect(failures(await lab.check('find-the-pod'))).toEqual([
        "checkout is the StatefulSet; one of its three pods fails. Write that pod's name, as the prefix [pod/NAME/app] shows it.",
      ]);
      await lab.run('echo checkout-2 > ~/failing-pod.txt');
      expect(failures(await lab.check('find-the-pod'))).toEqual([
        "checkout-2's app container logs no payment errors. Read all three pods' app logs with -l app=checkout --prefix and look for ERROR.",
      ]);
      await lab.run('echo pod/checkout-1 > ~/failing-pod.txt');
      expectAllPassed(await lab.check('find-the-pod'));

      await lab.run('for i in $(seq 30); do kubectl logs checkout-2 -c audit --previous >/dev/null 2>&1 && break; sleep 2; done');
      await lab.run('kubectl logs checkout-2 -c audit > ~/audit-crash.txt');
      expect(failures(await lab.check('previous'))).toEqual([
        '~/audit-crash.txt does not hold the line the crashed audit container wrote before it exited. The current container only says it resumed; read the previous one (kubectl logs checkout-2 -c audit with --previous).',
      ]);
      await lab.run('kubectl logs -p checkout-2 -c audit > ~/audit-crash.txt');
      expectAllPassed(await lab.check('previous'));
    });
  }, 300_000);
  it('obs-pod-not-running: latest fails, docker.io/…:1.1 passes; a 128Mi limit fails, 512Mi passes; a literal password fails, the right key passes', async () => {
    await bench.attempt('obs-pod-not-running', async (lab) => {
      await lab.run('kubectl set image deployment/search search=formicary/demo-web:latest');
      expect(failures(await lab.check('image'))).toContain(
        'The search Deployment should run formicary/demo-web at tag 1.1, the release the team made. latest moves with every release, and a tag with a v is not one the registry has.',
      );
      await lab.run('kubectl set image deployment/search search=docker.io/formicary/demo-web:1.1 && kubectl rollout status deployment/search --timeout=90s');
      expectAllPassed(await lab.check('image', 60_000));

      await lab.run('kubectl set resources deployment pricing --limits=memory=128Mi');
      expect(failures(await lab.check('oom'))).toContain(
        'The pricing container\'s memory limit must be above the 250Mi it needs once loaded, with room to spare (300Mi or more). Without a limit of its own, the namespace\'s LimitRange gives it 128Mi, and the kernel kills it again.',
      );
      await lab.run('kubectl set resources deployment pricing --limits=memory=512Mi && kubectl rollout status deployment/pricing --timeout=90s');
      expectAllPassed(await lab.check('oom', 60_000));

      await lab.run(`kubectl patch deployment orders --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/env/1","value":{"name":"DB_PASSWORD","value":"correct-horse-battery"}}]'`);
      await lab.run('kubectl rollout status deployment/orders --timeout=90s');
      expect(failures(await lab.check('config'))).toEqual([
        "DB_PASSWORD is typed into the Deployment now: anyone who may read Deployments reads the password, and it no longer changes with the Secret. Refer to the Secret's key instead.",
      ]);
      await lab.run(`kubectl patch deployment orders --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/env/1","value":{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"orders-db","key":"db-password"}}}}]'`);
      await lab.run('kubectl rollout status deployment/orders --timeout=90s');
      expectAllPassed(await lab.check('config', 60_000));
    });
  }, 300_000);
  it('obs-service: a selector that takes the whole shop fails, an exact one passes; moving the Service to 8080 fails, targetPort 8080 passes; an IP fails, the full name passes', async () => {
    await bench.attempt('obs-service', async (lab) => {
      await lab.run('kubectl rollout status deployment/catalog --timeout=90s && kubectl rollout status deployment/cart --timeout=90s');
      await lab.run('kubectl set selector service catalog app.kubernetes.io/part-of=shop && sleep 2');
      expect(failures(await lab.check('selector', 10_000))[0]).toMatch(/^The Service catalog also sends traffic to .*: a label every pod of the shop has selects them all\.$/);
      await lab.run(`kubectl patch service catalog --type=json -p '[{"op":"replace","path":"/spec/selector","value":{"app.kubernetes.io/name":"catalog"}}]' && sleep 2`);
      // The proof may come from any pod in the namespace, not only the workbench.
      await lab.run('for i in $(seq 5); do kubectl exec deploy/storefront -- curl -sS --max-time 10 http://catalog/ > ~/catalog-answer.txt && break; sleep 2; done');
      expectAllPassed(await lab.check('selector', 20_000));

      await lab.run(`kubectl patch service cart --type=json -p '[{"op":"replace","path":"/spec/ports","value":[{"port":8080,"targetPort":8080}]}]'`);
      expect(failures(await lab.check('port'))).toContain(
        'The Service cart no longer offers port 80, and storefront and other clients call port 80. Change where it forwards to, not where clients call.',
      );
      await lab.run(`kubectl patch service cart --type=json -p '[{"op":"replace","path":"/spec/ports","value":[{"port":80,"targetPort":8080}]}]' && sleep 2`);
      await lab.run('for i in $(seq 5); do curl -sS --max-time 10 http://cart/ > ~/cart-answer.txt && break; sleep 2; done');
      expectAllPassed(await lab.check('port', 20_000));

      await lab.run(`kubectl set env deployment/storefront CART_URL=http://$(kubectl get service cart -o jsonpath='{.spec.clusterIP}')`);
      expect(failures(await lab.check('name'))[0]).toBe("CART_URL names an IP address: it breaks the day the Service is recreated with another cluster IP. Use the Service's name.");
      await lab.run(`kubectl set env deployment/storefront CART_URL=http://cart.${'$'}(kubectl config view --minify -o jsonpath='{..namespace}').svc.cluster.local`);
      await lab.run('kubectl rollout status deployment/storefront --timeout=90s');
      expectAllPassed(await lab.check('name', 60_000));
    });
  }, 300_000);
  it('obs-exec: a file copied in by exec fails, a subPath mount passes; LOG_LEVEL typed into the Deployment fails, deleting the pods passes; the general debug profile is refused, a debug container without --target fails, one with it passes', async () => {
    await bench.attempt('obs-exec', async (lab) => {
      await lab.run('kubectl rollout status deployment/billing --timeout=90s');
      await lab.tryRun("kubectl exec deploy/billing -- sh -c 'mkdir -p /config && cp /etc/billing/rates.json /config/'");
      expect(failures(await lab.check('files'))).toContain(
        "The ConfigMap billing-rates is mounted at /etc/billing; billing reads /config/rates.json. Change the Deployment's mount, not the container's files.",
      );
      await lab.run(`kubectl patch deployment billing --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/volumeMounts/0","value":{"name":"rates","mountPath":"/config/rates.json","subPath":"rates.json"}}]'`);
      await lab.run('kubectl rollout status deployment/billing --timeout=90s');
      expectAllPassed(await lab.check('files', 90_000));

      await lab.run('kubectl set env deployment/notifier LOG_LEVEL=debug && kubectl rollout status deployment/notifier --timeout=90s');
      expect(failures(await lab.check('environment', 30_000))).toEqual([
        "The setting belongs in the ConfigMap notifier-config, where the team changed it; a value typed into the Deployment hides the ConfigMap's from now on. Keep the Deployment as it was and start new containers instead.",
      ]);
      await lab.run('kubectl set env deployment/notifier LOG_LEVEL- && kubectl rollout status deployment/notifier --timeout=90s');
      await lab.run('kubectl delete pods -l app=notifier --wait=false');
      expectAllPassed(await lab.check('environment', 90_000));

      // The general profile adds SYS_PTRACE: the restricted level refuses the debug container.
      const pod = "$(kubectl get pods -l app=billing -o jsonpath='{.items[0].metadata.name}')";
      const general = await lab.tryRun(`kubectl debug -i ${pod} --image=busybox:1.36 --target=billing --profile=general -- ps`);
      expect(general.exitCode).not.toBe(0);
      expect(general.stderr).toContain('violates PodSecurity "restricted:latest"');
      // Without --target the container runs beside billing and does not see its processes.
      await lab.run(`kubectl debug ${pod} --image=busybox:1.36 --profile=restricted -c beside -- ps`);
      expect(failures(await lab.check('debug'))).toContain(
        'Your debug container does not target the container billing (--target=billing): it runs beside billing without seeing its processes.',
      );
      // An interactive shell in the debug container, its output copied out through attach.
      await lab.run(`printf 'ps\\nexit\\n' | kubectl debug -i ${pod} --image=busybox:1.36 --target=billing --profile=restricted -c shell -- sh > ~/billing-ps.txt; for i in $(seq 30); do kubectl logs ${pod} -c shell 2>/dev/null | grep -q PID && break; sleep 2; done; kubectl logs ${pod} -c shell >> ~/billing-ps.txt`);
      expectAllPassed(await lab.check('debug', 30_000));
    });
  }, 300_000);
  it('obs-metrics: the Deployment or the memory-heavy pod fails, the resizer pod passes; a request raised by lowering the limit fails, request and limit raised together pass; the busiest path or the status fails, the failing path read from inside passes', async () => {
    await bench.attempt('obs-metrics', async (lab) => {
      await lab.run('echo resizer > ~/busiest-pod.txt');
      expect(failures(await lab.check('busiest'))).toEqual(['resizer is a Deployment; kubectl top pods measures pods. Write the pod\'s name.']);
      await lab.run("kubectl get pods -l app=cache -o jsonpath='{.items[0].metadata.name}' > ~/busiest-pod.txt");
      expect(failures(await lab.check('busiest'))[0]).toMatch(/^cache-.* uses the most memory, not the most CPU\. Sort by cpu\.$/);
      await lab.run("kubectl get pods -l app=resizer -o name > ~/busiest-pod.txt");
      expectAllPassed(await lab.check('busiest'));

      await lab.run('kubectl set resources deployment resizer --requests=cpu=150m --limits=cpu=150m');
      expect(failures(await lab.check('request'))).toEqual(["resizer's CPU limit is 150m now, below the 200m it had: it would be throttled harder."]);
      await lab.run('kubectl set resources deployment resizer --requests=cpu=250m --limits=cpu=500m && kubectl rollout status deployment/resizer --timeout=90s');
      expectAllPassed(await lab.check('request', 60_000));

      await lab.run('echo /cart > ~/failing-path.txt');
      expect(failures(await lab.check('app-metrics'))).toEqual(['/cart has the most requests, and all of them answer 200. Look for the series whose status label is a 5xx.']);
      await lab.run('echo 502 > ~/failing-path.txt');
      expect(failures(await lab.check('app-metrics'))).toEqual(['502 is the status label; write the path label of that series.']);
      // Read from a pod's side of the network as well: any client in the namespace sees the same series.
      await lab.run(`kubectl exec deploy/orders -- wget -qO- localhost:8080/metrics | awk -F'"' '/status="5/ {print $2; exit}' > ~/failing-path.txt`);
      expectAllPassed(await lab.check('app-metrics'));
    });
  }, 300_000);
  it('obs-capstone: removing the gateway probe fails, a probe on the named port passes; LEDGER_MODE typed into the Deployment fails, the ConfigMap and a restart pass; a selector of another app fails', async () => {
    await bench.attempt('obs-capstone', async (lab) => {
      await lab.run(`kubectl patch deployment gateway --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/readinessProbe"}]'`);
      await lab.run('kubectl rollout status deployment/gateway --timeout=90s');
      expect(failures(await lab.check('gateway'))).toEqual([
        'gateway has no readiness probe any more: its pods would get traffic while they cannot serve. Fix the probe, do not remove it.',
      ]);
      await lab.run(`kubectl patch deployment gateway --type=json -p '[{"op":"add","path":"/spec/template/spec/containers/0/readinessProbe","value":{"httpGet":{"path":"/ready","port":"http"},"periodSeconds":3}}]'`);
      await lab.run('kubectl rollout status deployment/gateway --timeout=90s');
      expectAllPassed(await lab.check('gateway', 60_000));

      await lab.run('kubectl set env deployment/ledger LEDGER_MODE=read-write && kubectl rollout status deployment/ledger --timeout=90s');
      expect(failures(await lab.check('ledger'))).toEqual([
        'LEDGER_MODE in the ConfigMap ledger-config is still not a value ledger accepts; the previous container\'s last log line says which values it takes.',
        "ledger's settings should keep coming from the ConfigMap ledger-config, where its team keeps them; fix the value there, not in the Deployment.",
      ]);
      await lab.run('kubectl set env deployment/ledger LEDGER_MODE- && kubectl rollout status deployment/ledger --timeout=90s || true');
      await lab.run(`kubectl patch configmap ledger-config -p '{"data":{"LEDGER_MODE":"read-only"}}' && kubectl rollout restart deployment/ledger && kubectl rollout status deployment/ledger --timeout=90s`);
      expectAllPassed(await lab.check('ledger', 60_000));

      await lab.run('kubectl set selector service search app=gateway && sleep 2');
      expect(failures(await lab.check('search'))[0]).toMatch(/^The Service search also sends traffic to .*, which (is not a search pod|are not search pods)\.$/);
    });
  }, 300_000);
  it('obs-probes: the Deployment or a Ready pod fails, pod/NAME of the not-Ready one passes; a back-off message fails, removing the probe fails, the liveness message passes', async () => {
    await bench.attempt('obs-probes', async (lab) => {
      await lab.run("for i in $(seq 30); do kubectl get pods -l app=api --no-headers | grep -q ' 0/1 ' && break; sleep 2; done");
      await lab.run('echo api > ~/out-of-traffic.txt');
      expect(failures(await lab.check('out-of-traffic'))).toEqual(["api is the Deployment (and the Service); one of its pods is out of traffic. Write that pod's name."]);
      await lab.run("kubectl get pods -l app=api --no-headers | awk '$2 == \"1/1\" {print $1; exit}' > ~/out-of-traffic.txt");
      expect(failures(await lab.check('out-of-traffic'))[0]).toMatch(/^api-.* is Ready and gets traffic\. Look for READY 0\/1, or ready: false in the EndpointSlice\.$/);
      await lab.run("kubectl get pods -l app=api --no-headers | awk '$2 == \"0/1\" {print \"pod/\" $1}' > ~/out-of-traffic.txt");
      expectAllPassed(await lab.check('out-of-traffic'));

      await lab.run('for i in $(seq 40); do kubectl get events --field-selector reason=Unhealthy | grep -q Liveness && break; sleep 3; done');
      await lab.run('echo "Back-off restarting failed container worker" > ~/worker-signal.txt');
      expect(failures(await lab.check('who-ends-it'))).toEqual([
        'Back-off is the kubelet waiting between restarts; it says that worker restarts, not why. Find the Unhealthy event before each Killing.',
      ]);
      await lab.run('echo "Liveness probe failed: HTTP probe failed with statuscode: 500" > ~/worker-signal.txt');
      await lab.run(`kubectl patch deployment worker --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/livenessProbe"}]'`);
      expect(failures(await lab.check('who-ends-it'))).toEqual([
        "worker's liveness probe was changed or removed: the restarts stop, and so does the signal that the app really breaks. Keep it as it was.",
      ]);
      await lab.run('kubectl rollout undo deployment/worker');
      expectAllPassed(await lab.check('who-ends-it'));
    });
  }, 300_000);
});
