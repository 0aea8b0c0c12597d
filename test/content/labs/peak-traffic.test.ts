// The labs of "Operating for peak traffic" against learners' plausible wrong answers and right
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

describe.concurrent('peak-traffic labs', () => {
  it('peak-right-size: requests below the measured peak, or no equal limits, fail; a patch with 0.2 CPU and 120Mi passes', async () => {
    await bench.attempt('peak-right-size', async (lab) => {
      await lab.run('echo quota > ~/blocked-by.txt');
      expect(failures(await lab.check('find-out'))).toEqual(['~/blocked-by.txt says "quota"; write only the quota\'s name, as the FailedCreate event gives it after "exceeded quota:".']);
      await lab.reach('right-size');
      await lab.run('kubectl scale deployment checkout --replicas=2');
      // Burstable: requests right, limits above them.
      await lab.run('kubectl set resources deployment checkout --requests=cpu=250m,memory=128Mi --limits=cpu=300m,memory=256Mi');
      await lab.run('kubectl rollout status deployment/checkout --timeout=110s && kubectl scale deployment checkout --replicas=4 && kubectl rollout status deployment/checkout --timeout=110s');
      expect(failures(await lab.check('right-size', 30_000))).toEqual([expect.stringMatching(/^4 checkout pods are not Guaranteed \(Burstable, Burstable, Burstable, Burstable\): set CPU and memory limits equal to the requests\.$/)]);
      // Guaranteed, but below the peak the team measured.
      await lab.run('kubectl set resources deployment checkout --requests=cpu=100m,memory=64Mi --limits=cpu=100m,memory=64Mi && kubectl rollout status deployment/checkout --timeout=110s');
      expect(failures(await lab.check('right-size', 30_000))).toEqual([
        'The CPU request is below what checkout used at peak (180m); under load it would get less CPU than it needs, and as a limit it would be throttled.',
        'The memory request is below what checkout used at peak (100Mi); with a limit equal to it, the container would be OOMKilled under load.',
      ]);
      await lab.run(`kubectl patch deployment checkout -p '{"spec":{"template":{"spec":{"containers":[{"name":"checkout","resources":{"requests":{"cpu":"0.2","memory":"120Mi"},"limits":{"cpu":"0.2","memory":"120Mi"}}}]}}}}'`);
      await lab.run('kubectl rollout status deployment/checkout --timeout=110s');
      expectAllPassed(await lab.check('right-size', 60_000));
    });
  }, 400_000);

  it('peak-probes: no liveness probe, or readiness on /healthz, fails; a TCP liveness probe with a startup probe passes', async () => {
    await bench.attempt('peak-probes', async (lab) => {
      await lab.run(`kubectl patch deployment catalog --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/livenessProbe"}]'`);
      expect(failures(await lab.check('stop-the-restarts'))).toContain(
        'catalog has no liveness probe now: a process that hangs would never be restarted. Keep one, on a question a warming-up app answers yes to.',
      );
      await lab.run(`kubectl patch deployment catalog -p '{"spec":{"template":{"spec":{"containers":[{"name":"catalog","livenessProbe":{"httpGet":{"path":"/healthz","port":8080}},"readinessProbe":{"httpGet":{"path":"/healthz","port":8080}}}]}}}}'`);
      expect(failures(await lab.check('stop-the-restarts'))).toContain(
        'The readiness probe asks GET /healthz on 8080; only /ready on 8080 says whether the pod can take traffic (/healthz is 200 while it is still warming up).',
      );
      await lab.run(`kubectl patch deployment catalog --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/livenessProbe","value":{"tcpSocket":{"port":8080},"periodSeconds":10}},{"op":"replace","path":"/spec/template/spec/containers/0/readinessProbe","value":{"httpGet":{"path":"/ready","port":8080},"periodSeconds":2}},{"op":"add","path":"/spec/template/spec/containers/0/startupProbe","value":{"httpGet":{"path":"/healthz","port":8080},"periodSeconds":2,"failureThreshold":30}}]'`);
      await lab.run('kubectl rollout status deployment/catalog --timeout=110s');
      expectAllPassed(await lab.check('stop-the-restarts', 60_000));

      // Two pods out of traffic is more than the step asks.
      await lab.run("for p in $(kubectl get pods -l app=catalog -o jsonpath='{.items[0].metadata.name} {.items[1].metadata.name}'); do kubectl exec $p -- touch /tmp/not-ready; done");
      await lab.run('sleep 6');
      expect(failures(await lab.check('out-of-traffic'))).toEqual(['2 catalog pods are out of traffic; this step takes out one, so that the others carry it.']);
      await lab.run("kubectl exec $(kubectl get pods -l app=catalog -o jsonpath='{.items[1].metadata.name}') -- rm /tmp/not-ready");
      expectAllPassed(await lab.check('out-of-traffic', 30_000));
    });
  }, 400_000);

  it('peak-autoscale: the wrong bounds and target fail; an autoscaling/v2 manifest applied from a file passes', async () => {
    await bench.attempt('peak-autoscale', async (lab) => {
      await lab.run('kubectl autoscale deployment shop --cpu-percent=80 --min=1 --max=10');
      const loose = failures(await lab.check('autoscaler'));
      expect(loose).toContain('.spec.minReplicas of HorizontalPodAutoscaler shop is 1; this step asks for 2.');
      expect(loose).toContain('The autoscaler should aim at 50 % CPU utilisation (of the pods\' requests).');
      await lab.run('kubectl delete hpa shop');
      await lab.run(`cat > ~/hpa.yaml <<'YAML'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: shop
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: shop }
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
YAML
kubectl apply -f ~/hpa.yaml`);
      expectAllPassed(await lab.check('autoscaler', 60_000));
    });
  }, 300_000);

  it('peak-disruption: a budget that allows nothing, or selects nothing, fails; maxUnavailable 1 passes; evicting one pod twice is no refusal', async () => {
    await bench.attempt('peak-disruption', async (lab) => {
      await lab.run('kubectl rollout status deployment/checkout --timeout=110s');
      await lab.run('kubectl create pdb checkout --selector=app=checkout --min-available=3');
      expect(failures(await lab.check('budget', 10_000))).toEqual([
        'The budget should allow exactly one disruption while all three pods are healthy. With 0, no drain could ever finish; with more, checkout could drop below two ready pods.',
      ]);
      await lab.run('kubectl delete pdb checkout && kubectl create pdb checkout --selector=app=checkuot --max-unavailable=1');
      expect(failures(await lab.check('budget', 5_000))).toContain('The budget does not cover the three checkout pods; its selector must match their labels (app=checkout).');
      await lab.run('kubectl delete pdb checkout && kubectl create pdb checkout --selector=app=checkout --max-unavailable=1');
      expectAllPassed(await lab.check('budget', 60_000));

      const evict = `evict() { kubectl create --raw "/api/v1/namespaces/$(kubectl config view --minify -o jsonpath='{..namespace}')/pods/$1/eviction" -f - <<< "{\\"apiVersion\\":\\"policy/v1\\",\\"kind\\":\\"Eviction\\",\\"metadata\\":{\\"name\\":\\"$1\\"}}"; }`;
      // The second request names the pod already on its way out (or gone): no budget is consulted.
      await lab.tryRun(`${evict}; pod=$(kubectl get pods -l app=checkout -o jsonpath='{.items[0].metadata.name}'); evict $pod; evict $pod 2> ~/second-eviction.txt`);
      expect(failures(await lab.check('evict'))).toContain(
        '~/second-eviction.txt does not hold the refusal. Evict a second checkout pod within 20 seconds of the first, and redirect its standard error (2>) into the file.',
      );
    });
  }, 300_000);

  it('peak-rollout: a surge with a pod unavailable, or the default deadline, fails; 25 % surge, 0 %, 10 s and 90 s pass', async () => {
    await bench.attempt('peak-rollout', async (lab) => {
      await lab.run(`kubectl patch deployment web -p '{"spec":{"minReadySeconds":5,"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":1}}}}'`);
      expect(failures(await lab.check('safe-settings'))).toEqual([
        'maxUnavailable should be 0, so that no ready pod is taken away before its replacement is available.',
        'progressDeadlineSeconds is still above 90; a stuck release would go unreported for too long during the sale.',
      ]);
      await lab.run(`kubectl patch deployment web --type=json -p '[{"op":"replace","path":"/spec/strategy/rollingUpdate","value":{"maxSurge":"25%","maxUnavailable":"0%"}},{"op":"replace","path":"/spec/minReadySeconds","value":10},{"op":"replace","path":"/spec/progressDeadlineSeconds","value":90}]'`);
      expectAllPassed(await lab.check('safe-settings'));
    });
  }, 300_000);

  it('peak-shutdown: a short pause, or a grace period it does not fit, fails; exec sleep 8 with 20 s passes', async () => {
    await bench.attempt('peak-shutdown', async (lab) => {
      await lab.run(`kubectl patch deployment cart -p '{"spec":{"template":{"spec":{"containers":[{"name":"cart","lifecycle":{"preStop":{"sleep":{"seconds":3}}}}]}}}}'`);
      expect(failures(await lab.check('pause-before-stop'))).toContain('A 3-second pause is shorter than this step asks (5 s): traffic may still arrive after SIGTERM.');
      await lab.run(`kubectl patch deployment cart -p '{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":15,"containers":[{"name":"cart","lifecycle":{"preStop":{"sleep":{"seconds":10}}}}]}}}}'`);
      expect(failures(await lab.check('pause-before-stop'))).toContain(
        'The grace period (15 s) leaves the app 5 s after the pause; it is killed (SIGKILL) before it can finish its requests. Make it at least 20 s.',
      );
      await lab.run(`kubectl patch deployment cart --type=json -p '[{"op":"replace","path":"/spec/template/spec/terminationGracePeriodSeconds","value":20},{"op":"replace","path":"/spec/template/spec/containers/0/lifecycle","value":{"preStop":{"exec":{"command":["sleep","8"]}}}}]'`);
      expectAllPassed(await lab.check('pause-before-stop', 120_000));
    });
  }, 300_000);

  it('peak-sale: a floor of 1 and a budget of 3 fail with what is missing; another complete set of answers passes', async () => {
    await bench.attempt('peak-sale', async (lab) => {
      await lab.run('kubectl set resources deployment storefront --requests=cpu=50m,memory=64Mi');
      await lab.run(`kubectl patch deployment storefront -p '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":"0%"}},"template":{"spec":{"containers":[{"name":"storefront","readinessProbe":{"httpGet":{"path":"/","port":80}},"lifecycle":{"preStop":{"exec":{"command":["sleep","5"]}}}}]}}}}'`);
      await lab.run('kubectl autoscale deployment storefront --cpu-percent=60 --min=1 --max=8');
      await lab.run('kubectl scale deployment storefront --replicas=3 && kubectl create pdb storefront --selector=app=storefront --min-available=3');
      await lab.run('kubectl rollout status deployment/storefront --timeout=110s');
      const gaps = failures(await lab.check('get-ready', 10_000));
      expect(gaps).toContain('The autoscaler storefront should keep at least 3 replicas before the sale; it reacts to load, it does not predict it.');
      expect(gaps).toContain('The disruption budget storefront should allow exactly one eviction while the storefront is healthy (and must select its pods, app=storefront).');
      await lab.run(`kubectl patch hpa storefront -p '{"spec":{"minReplicas":3,"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]}}'`);
      await lab.run('kubectl delete pdb storefront && kubectl create pdb storefront --selector=app=storefront --min-available=2');
      expectAllPassed(await lab.check('get-ready', 120_000));
    });
  }, 400_000);
});
