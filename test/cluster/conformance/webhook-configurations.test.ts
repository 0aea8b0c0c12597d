// Validating and MutatingWebhookConfigurations as a v1.33 API server stores them: upstream's
// defaults, its validation messages word for word, the Webhooks column, and generation bumps.
// The webhooks are never called (README); a manifest that installs them applies as on a cluster.
import { describe, expect, it } from 'vitest';
import { EDGE_VERSIONS, useConformanceCluster } from './harness.ts';
import { table } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

const valid = (name: string, kind = 'ValidatingWebhookConfiguration') => `apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}
metadata: {name: ${name}}
webhooks:
- name: pods.policy.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig:
    service: {name: policy, namespace: default, path: /validate}
  rules:
  - {operations: [CREATE, UPDATE], apiGroups: [''], apiVersions: [v1], resources: [pods]}
`;

describe.each(EDGE_VERSIONS)('webhook configurations, kubectl %s', (version) => {
  const suffix = version.replace('.', '-');

  it('stores a valid configuration with upstream defaults and lists it with its Webhooks count', async () => {
    const name = `policy-${suffix}`;
    const created = await c.kubectl(version, ['apply', '-f', '-'], { stdin: valid(name) });
    expect(created).toMatchObject({ code: 0, stdout: `validatingwebhookconfiguration.admissionregistration.k8s.io/${name} created\n` });
    const stored = c.get('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', undefined, name) as unknown as { webhooks: Array<Record<string, unknown>> };
    expect(stored.webhooks[0]).toMatchObject({
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      namespaceSelector: {},
      objectSelector: {},
      timeoutSeconds: 10,
      clientConfig: { service: { name: 'policy', namespace: 'default', path: '/validate', port: 443 } },
      rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' }],
    });
    const listed = await c.kubectl(version, ['get', 'validatingwebhookconfigurations', name]);
    expect(table(listed.stdout).split('\n')[0]).toMatch(/^NAME\s+WEBHOOKS\s+AGE$/);
    expect(table(listed.stdout).split('\n')[1]).toMatch(new RegExp(`^${name}\\s+1\\s+<age>$`));
    const mutating = await c.kubectl(version, ['apply', '-f', '-'], { stdin: valid(`inject-${suffix}`, 'MutatingWebhookConfiguration') });
    expect(mutating.code, mutating.stderr).toBe(0);
    const reinvocation = c.get('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', undefined, `inject-${suffix}`) as unknown as { webhooks: Array<Record<string, unknown>> };
    expect(reinvocation.webhooks[0]?.['reinvocationPolicy']).toBe('Never');
  });

  it('refuses what upstream refuses, with its messages', async () => {
    const name = `broken-${suffix}`;
    const result = await c.kubectl(version, ['apply', '-f', '-'], {
      stdin: `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: ${name}}
webhooks:
- name: admission-webhook-example
  admissionReviewVersions: [v1]
  clientConfig: {url: 'http://policy.example.com/validate?x=1'}
  timeoutSeconds: 60
  rules:
  - {operations: [GET], apiGroups: [''], apiVersions: [v1], resources: [pods]}
- name: same.example.com
  sideEffects: Some
  admissionReviewVersions: [v2]
  clientConfig:
    service: {name: policy, namespace: default}
    url: https://policy.example.com
`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `The ValidatingWebhookConfiguration "${name}" is invalid: \n` +
        [
          '* webhooks[0].name: Invalid value: "admission-webhook-example": should be a domain with at least three segments separated by dots',
          '* webhooks[0].rules[0].operations[0]: Unsupported value: "GET": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"',
          '* webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun',
          '* webhooks[0].timeoutSeconds: Invalid value: 60: the timeout value must be between 1 and 30 seconds',
          `* webhooks[0].clientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`,
          '* webhooks[0].clientConfig.url: Invalid value: "x=1": query parameters are not permitted in the URL',
          '* webhooks[1].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
          '* webhooks[1].clientConfig: Required value: exactly one of url or service is required',
          '* webhooks[1].admissionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1',
        ].join('\n') +
        '\n',
    );
  });

  it('bumps generation when the webhooks change', async () => {
    const name = `generation-${suffix}`;
    expect((await c.kubectl(version, ['apply', '-f', '-'], { stdin: valid(name) })).code).toBe(0);
    const patched = await c.kubectl(version, ['patch', 'validatingwebhookconfiguration', name, '--type=json', '-p', '[{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":5}]']);
    expect(patched.code, patched.stderr).toBe(0);
    expect(c.get('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', undefined, name)?.metadata.generation).toBe(2);
  });

  it('knows the type: explain works and an unknown field is refused (strict field validation)', async () => {
    const explain = await c.kubectl(version, ['explain', 'validatingwebhookconfiguration.webhooks.sideEffects']);
    expect(explain.code, explain.stderr).toBe(0);
    expect(explain.stdout).toContain('FIELD: sideEffects');
    const typo = await c.kubectl(version, ['apply', '-f', '-'], { stdin: valid(`typo-${suffix}`).replace('sideEffects: None', 'sideEffect: None') });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown field "webhooks[0].sideEffect"');
  });
});
