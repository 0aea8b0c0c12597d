// labs/drain-a-node (needs: cluster, a cluster of the learner's own) against learners' plausible
// wrong answers (see attempts.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllPassed, failures, startLabBench, type LabBench } from './attempts.ts';

let bench: LabBench;

beforeAll(async () => {
  bench = await startLabBench({ dedicatedClusters: 1 });
}, 60_000);
afterAll(async () => {
  await bench?.stop();
});

const DUE = "$(kubectl get nodes -l maintenance=due -o jsonpath='{.items[0].metadata.name}')";

describe('drain-a-node', () => {
  it('refuses the wrong node, a drain kubectl refused, a shop scaled away and a label removed before the uncordon', async () => {
    await bench.attempt('drain-a-node', async (lab) => {
      // The learner's own cluster: three nodes, and kubectl there may do anything.
      expect((await lab.run('kubectl get nodes --no-headers | wc -l')).stdout.trim()).toBe('3');
      expect((await lab.run("kubectl auth can-i '*' '*' --all-namespaces")).stdout.trim()).toBe('yes');

      // Cordoning a node that is not due, then both.
      await lab.run("kubectl cordon $(kubectl get nodes -l '!maintenance' -o jsonpath='{.items[0].metadata.name}')");
      expect(failures(await lab.check('cordon'))).toEqual(['The node labelled maintenance=due still accepts new pods; cordon it (kubectl cordon NODE).']);
      await lab.run(`kubectl cordon ${DUE}`);
      expect(failures(await lab.check('cordon'))).toEqual(['More than one node is cordoned; only the node labelled maintenance=due is being patched. Uncordon the others.']);
      await lab.run("kubectl uncordon -l '!maintenance'");
      expectAllPassed(await lab.check('cordon'));

      // A drain without --ignore-daemonsets stops at kube-proxy, and the shop pods stay where they are.
      const refused = await lab.tryRun(`kubectl drain ${DUE} --timeout=60s`);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)');
      expect(failures(await lab.check('drain'))[0]).toMatch(/^(One shop pod still runs|\d shop pods still run) on node-\d \(shop-[^)]+\); cordoning keeps new pods away, but only a drain moves the ones already there\.$/);

      // Scaling the shop away empties the node too, but the shop must keep its replicas.
      await lab.run('kubectl scale deployment shop --replicas=0');
      await lab.run("kubectl wait --for=delete pod -l app=shop --timeout=60s");
      expect(failures(await lab.check('drain'))).toEqual([
        'Fewer than 4 shop pods are Ready. Maintenance must not cost the shop its replicas; if replacements are still starting, check again in a moment, and if the shop was scaled down, scale it back to 4.',
      ]);
      await lab.run('kubectl scale deployment shop --replicas=4 && kubectl rollout status deployment/shop --timeout=120s');
      expectAllPassed(await lab.check('drain', 60_000));

      // The label removed first: `uncordon -l maintenance=due` then finds no node, and the node stays cordoned.
      await lab.run('kubectl label node -l maintenance=due maintenance-');
      await lab.run('kubectl uncordon -l maintenance=due');
      expect(failures(await lab.check('uncordon'))).toEqual(['A node is still cordoned; uncordon it (kubectl uncordon NODE).']);
      await lab.run("kubectl uncordon $(kubectl get nodes --field-selector spec.unschedulable=true -o jsonpath='{.items[0].metadata.name}')");
      expectAllPassed(await lab.check('uncordon'));
    });
  }, 300_000);
});
