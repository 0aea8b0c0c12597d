// Registry figures at a workshop's scale, in process (no HTTP): a sandbox's seven objects created
// as the portal makes them, a namespace's pods listed, heap per stored object (200 sandboxes of
// 10 pods), and generating every OpenAPI v3 document of the issue-3 resource set. These were
// thresholds in ordinary tests, where a busy machine made them flaky.
import { admissionPlugins } from '../src/cluster/apiserver/admission/index.ts';
import { createOpenApi } from '../src/cluster/apiserver/openapi/index.ts';
import { cronTabs, servedResources } from '../test/cluster/apiserver/openapi/served-resources.ts';
import { createPortalSandbox, openTestRegistry } from '../test/cluster/registry/helpers.ts';
import { percentile, round } from './stats.ts';

const SANDBOXES = 200;
const PODS = 10;

export default async function registryBench(): Promise<Record<string, number>> {
  const t = await openTestRegistry({ admission: admissionPlugins() });
  const figures: Record<string, number> = {};
  try {
    const { registry } = t;
    const def = t.def.bind(t);
    const pods = def('', 'v1', 'pods');
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const sandboxMs: number[] = [];
    for (let i = 0; i < SANDBOXES; i++) {
      const name = `lab-${i}`;
      const started = performance.now();
      createPortalSandbox(registry, def, name);
      sandboxMs.push(performance.now() - started);
      for (let p = 0; p < PODS; p++)
        registry.create(pods, name, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${p}`, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
    }
    globalThis.gc?.();
    figures['registry_heap_bytes_per_object'] = round((process.memoryUsage().heapUsed - heapBefore) / (SANDBOXES * (7 + PODS)), 0);
    figures['registry_sandbox_create_ms_p95'] = percentile(sandboxMs, 95);

    const listMs: number[] = [];
    for (let i = 0; i < SANDBOXES; i++) {
      const started = performance.now();
      registry.list(pods, { namespace: `lab-${i}`, limit: 500 });
      listMs.push(performance.now() - started);
    }
    figures['registry_namespace_list_ms_p95'] = percentile(listMs, 95);
  } finally {
    await t.registry.close();
  }

  const started = performance.now();
  const openApi = createOpenApi(() => [...servedResources, cronTabs]);
  for (const gv of Object.keys(openApi.index().paths)) openApi.document(gv);
  figures['openapi_v3_generate_all_ms'] = round(performance.now() - started, 0);
  return figures;
}
