// CustomResourceDefinitions: a CRD adds its resource to discovery; its objects are created, listed
// with the CRD's printer columns, patched (merge and JSON; strategic is refused), validated against
// the openAPIV3Schema with the real messages, explained, and go when the CRD goes. CRDs are
// cluster-wide and kubectl resolves `crontabs` and `ct` to one of them, so each case's CRD is
// removed (and gone) before the next case starts.
import { afterEach, describe, expect, it } from 'vitest';
import { EDGE_VERSIONS, useConformanceCluster, type Sandbox } from './harness.ts';
import { expectResult, table, text } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

const group = 'stable.example.com';
const groupOf = (_s: Sandbox) => group;

afterEach(async () => {
  const definitions = c.cluster.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  for (const name of [`crontabs.${group}`, `globaltabs.${group}`]) {
    if (!definitions || !c.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', undefined, name)) continue;
    try {
      c.cluster.registry.delete(definitions, undefined, name);
    } catch {
      // already being deleted
    }
    await c.until(`${name} gone`, () => !c.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', undefined, name));
  }
});

interface Names {
  plural: string;
  singular: string;
  kind: string;
  short: string;
}
const cronTabs: Names = { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', short: 'ct' };
/** The cluster-scoped case has its own names: kubectl's cached discovery would still call crontabs namespaced. */
const globalTabs: Names = { plural: 'globaltabs', singular: 'globaltab', kind: 'GlobalTab', short: 'gt' };

function crd(s: Sandbox, options: { scope?: 'Namespaced' | 'Cluster'; status?: boolean; names?: Names } = {}): string {
  const n = options.names ?? cronTabs;
  return text`
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: ${n.plural}.${groupOf(s)}
    spec:
      group: ${groupOf(s)}
      scope: ${options.scope ?? 'Namespaced'}
      names: {plural: ${n.plural}, singular: ${n.singular}, kind: ${n.kind}, shortNames: [${n.short}], categories: [all]}
      versions:
      - name: v1
        served: true
        storage: true${options.status ? '\n        subresources: {status: {}}' : ''}
        schema:
          openAPIV3Schema:
            type: object
            description: CronTab runs a command on a schedule.
            properties:
              spec:
                type: object
                required: [cronSpec]
                properties:
                  cronSpec: {type: string, pattern: '^(\\S+ ){4}\\S+$', description: The schedule in cron format.}
                  image: {type: string}
                  replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
                  mode: {type: string, enum: [Fast, Safe]}
              status:
                type: object
                properties:
                  lastRun: {type: string}
        additionalPrinterColumns:
        - {name: Spec, type: string, jsonPath: .spec.cronSpec}
        - {name: Replicas, type: integer, jsonPath: .spec.replicas}
        - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
  `;
}

const cronTab = (s: Sandbox, name: string, spec: string) => `apiVersion: ${groupOf(s)}/v1\nkind: CronTab\nmetadata: {name: ${name}}\nspec: ${spec}\n`;

async function withCrd(hint: string, options: { scope?: 'Namespaced' | 'Cluster'; status?: boolean; names?: Names } = {}): Promise<Sandbox> {
  const s = await c.sandbox(hint);
  await s.apply(crd(s, options));
  const established = () => {
    const definition = c.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', undefined, `${(options.names ?? cronTabs).plural}.${groupOf(s)}`);
    const conditions = (definition?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
    return conditions.some((cond) => cond.type === 'Established' && cond.status === 'True');
  };
  await c.until('the CRD established', established);
  return s;
}

describe('a CustomResourceDefinition', () => {
  it.each(EDGE_VERSIONS)('%s is created', async (version) => {
    const s = await c.sandbox('crd-create');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: crd(s) }), { code: 0, stdout: `customresourcedefinition.apiextensions.k8s.io/crontabs.${groupOf(s)} created\n` });
  });

  it.each(EDGE_VERSIONS)('%s appears in api-resources', async (version) => {
    const s = await withCrd('crd-discovery');
    expectResult(
      await s.kubectl(version, ['api-resources', `--api-group=${groupOf(s)}`]),
      { code: 0, stdout: `NAME   SHORTNAMES   APIVERSION   NAMESPACED   KIND\ncrontabs   ct   ${groupOf(s)}/v1   true   CronTab\n` },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s is listed with its columns (get crd)', async (version) => {
    const s = await withCrd('crd-get');
    expectResult(await s.kubectl(version, ['get', 'crd', `crontabs.${groupOf(s)}`]), { code: 0, stdout: `NAME   CREATED AT\ncrontabs.${groupOf(s)}   <time>\n` }, (out) =>
      table(out.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/, '<time>')),
    );
  });

  it.each(EDGE_VERSIONS)('%s is explained from its schema', async (version) => {
    const s = await withCrd('crd-explain');
    const result = await s.kubectl(version, ['explain', `crontabs.spec`]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toMatch(new RegExp(`^GROUP: {6}${group.replace(/\./g, '\\.')}\nKIND: {7}CronTab\nVERSION: {4}v1\n\nFIELD: spec <Object>\n`));
    expect(result.stdout).toMatch(/FIELDS:\n {2}cronSpec\t<string> -required-\n {4}The schedule in cron format\.\n/);
    expect(result.stdout).toContain('  replicas\t<integer>\n');
  });

  it.each(EDGE_VERSIONS)('%s deleted takes its objects and its resource with it', async (version) => {
    const s = await withCrd('crd-delete');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    expectResult(await s.kubectl(version, ['delete', 'crd', `crontabs.${groupOf(s)}`]), { code: 0, stdout: `customresourcedefinition.apiextensions.k8s.io "crontabs.${groupOf(s)}" deleted\n` });
    expectResult(await s.kubectl(version, ['get', `crontabs.${groupOf(s)}`]), { code: 1, stdout: '', stderr: `error: the server doesn't have a resource type "crontabs"\n` });
  });
});

describe('custom resources', () => {
  it.each(EDGE_VERSIONS)('%s are created, defaulted by the schema', async (version) => {
    const s = await withCrd('cr-create');
    expectResult(await s.kubectl(version, ['create', '-f', '-'], { stdin: cronTab(s, 'nightly', '{cronSpec: "0 3 * * *", image: busybox}') }), {
      code: 0,
      stdout: `crontab.${groupOf(s)}/nightly created\n`,
    });
    expect(c.get(groupOf(s), 'v1', 'crontabs', s.namespace, 'nightly')?.['spec']).toEqual({ cronSpec: '0 3 * * *', image: 'busybox', replicas: 1 });
  });

  it.each(EDGE_VERSIONS)('%s are listed with the printer columns, by short name', async (version) => {
    const s = await withCrd('cr-get');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *", replicas: 2}') + '---\n' + cronTab(s, 'hourly', '{cronSpec: "0 * * * *"}'));
    expectResult(
      await s.kubectl(version, ['get', 'ct']),
      {
        code: 0,
        stdout: text`
          NAME      SPEC        REPLICAS   AGE
          hourly    0 * * * *   1          <age>
          nightly   0 3 * * *   2          <age>
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s are part of get all through the CRD\'s category', async (version) => {
    const s = await withCrd('cr-all');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    expectResult(
      await s.kubectl(version, ['get', 'all']),
      { code: 0, stdout: `NAME   SPEC   REPLICAS   AGE\ncrontab.${groupOf(s)}/nightly   0 3 * * *   1   <age>\n` },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s -o yaml', async (version) => {
    const s = await withCrd('cr-yaml');
    await s.must(['create', '-f', '-'], { stdin: cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}') });
    const live = c.get(groupOf(s), 'v1', 'crontabs', s.namespace, 'nightly');
    expectResult(await s.kubectl(version, ['get', 'crontab', 'nightly', '-o', 'yaml']), {
      code: 0,
      stdout: text`
        apiVersion: ${groupOf(s)}/v1
        kind: CronTab
        metadata:
          creationTimestamp: "${live?.metadata.creationTimestamp}"
          generation: 1
          name: nightly
          namespace: ${s.namespace}
          resourceVersion: "${live?.metadata.resourceVersion}"
          uid: ${live?.metadata.uid}
        spec:
          cronSpec: 0 3 * * *
          replicas: 1
      `,
    });
  });

  it.each(EDGE_VERSIONS)('%s a merge patch', async (version) => {
    const s = await withCrd('cr-merge');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    expectResult(await s.kubectl(version, ['patch', 'ct', 'nightly', '--type=merge', '-p', '{"spec":{"replicas":3}}']), { code: 0, stdout: `crontab.${groupOf(s)}/nightly patched\n` });
    expect([c.get(groupOf(s), 'v1', 'crontabs', s.namespace, 'nightly')?.['spec'], c.get(groupOf(s), 'v1', 'crontabs', s.namespace, 'nightly')?.metadata.generation]).toEqual([
      { cronSpec: '0 3 * * *', replicas: 3 },
      2,
    ]);
  });

  it.each(EDGE_VERSIONS)('%s a JSON patch', async (version) => {
    const s = await withCrd('cr-json');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    expectResult(await s.kubectl(version, ['patch', 'ct', 'nightly', '--type=json', '-p', '[{"op":"add","path":"/spec/mode","value":"Safe"}]']), {
      code: 0,
      stdout: `crontab.${groupOf(s)}/nightly patched\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s a strategic merge patch is refused', async (version) => {
    const s = await withCrd('cr-strategic');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    expectResult(await s.kubectl(version, ['patch', 'ct', 'nightly', '-p', '{"spec":{"replicas":3}}']), {
      code: 1,
      stdout: '',
      // kubectl names the patch type and the kind when the server answers 415.
      stderr: `error: application/strategic-merge-patch+json is not supported by ${group}/v1, Kind=CronTab: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s label and delete', async (version) => {
    const s = await withCrd('cr-label-delete');
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    const results = [await s.kubectl(version, ['label', 'ct', 'nightly', 'team=ops']), await s.kubectl(version, ['delete', 'ct', 'nightly'])];
    expect(results).toEqual([
      { code: 0, stdout: `crontab.${groupOf(s)}/nightly labeled\n`, stderr: '' },
      { code: 0, stdout: `crontab.${groupOf(s)} "nightly" deleted\n`, stderr: '' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s cluster-scoped', async (version) => {
    const s = await withCrd('cr-cluster', { scope: 'Cluster', names: globalTabs });
    const manifest = `apiVersion: ${group}/v1\nkind: GlobalTab\nmetadata: {name: everywhere}\nspec: {cronSpec: "0 3 * * *"}\n`;
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest }), { code: 0, stdout: `globaltab.${group}/everywhere created\n` });
    expect(c.get(group, 'v1', 'globaltabs', undefined, 'everywhere')?.metadata.namespace).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s with a status subresource: status is not written through the main resource', async (version) => {
    const s = await withCrd('cr-status', { status: true });
    await s.apply(cronTab(s, 'nightly', '{cronSpec: "0 3 * * *"}'));
    expectResult(await s.kubectl(version, ['patch', 'ct', 'nightly', '--type=merge', '-p', '{"status":{"lastRun":"now"}}']), {
      code: 0,
      stdout: `crontab.${groupOf(s)}/nightly patched (no change)\n`,
    });
    expectResult(await s.kubectl(version, ['patch', 'ct', 'nightly', '--subresource=status', '--type=merge', '-p', '{"status":{"lastRun":"now"}}']), {
      code: 0,
      stdout: `crontab.${groupOf(s)}/nightly patched\n`,
    });
    expect(c.get(groupOf(s), 'v1', 'crontabs', s.namespace, 'nightly')?.['status']).toEqual({ lastRun: 'now' });
  });
});

describe('custom resources the schema refuses', () => {
  it.each(EDGE_VERSIONS)('%s a value of the wrong type', async (version) => {
    const s = await withCrd('cr-invalid-type');
    expectResult(await s.kubectl(version, ['create', '-f', '-'], { stdin: cronTab(s, 'bad', '{cronSpec: "0 3 * * *", replicas: three}') }), {
      code: 1,
      stdout: '',
      stderr: `The CronTab "bad" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s a value out of range, a missing required field, a value not in the enum', async (version) => {
    const s = await withCrd('cr-invalid-many');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: cronTab(s, 'bad', '{replicas: 11, mode: Slow}') }), {
      code: 1,
      stdout: '',
      stderr:
        // Required properties are checked before the properties themselves, in name order.
        `The CronTab "bad" is invalid: \n` +
        `* spec.cronSpec: Required value\n` +
        `* spec.mode: Unsupported value: "Slow": supported values: "Fast", "Safe"\n` +
        `* spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s a string that does not match the pattern', async (version) => {
    const s = await withCrd('cr-invalid-pattern');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: cronTab(s, 'bad', '{cronSpec: "every day"}') }), {
      code: 1,
      stdout: '',
      stderr: `The CronTab "bad" is invalid: spec.cronSpec: Invalid value: "every day": spec.cronSpec in body should match '^(\\S+ ){4}\\S+$'\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s a field the schema does not have: strict decoding error', async (version) => {
    const s = await withCrd('cr-unknown-field');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: cronTab(s, 'bad', '{cronSpec: "0 3 * * *", colour: blue}') }), {
      code: 1,
      stdout: '',
      stderr: `Error from server (BadRequest): error when creating "STDIN": CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.colour"\n`,
    });
  });
});
