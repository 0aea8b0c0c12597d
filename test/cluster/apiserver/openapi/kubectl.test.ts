// Real kubectl against a test server that serves the generated OpenAPI documents: explain
// prints upstream's descriptions and types, and apply leaves field validation to the server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startOpenApiServer, type OpenApiServer } from './openapi-server.ts';
import { cronTabs, servedResources } from './served-resources.ts';

let server: OpenApiServer;
let dir: string;

beforeAll(async () => {
  server = await startOpenApiServer([...servedResources, cronTabs]);
  dir = await mkdtemp(join(tmpdir(), 'openapi-kubectl-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function explain(binary: string, ...args: string[]): Promise<string> {
  const result = await server.kubectl(binary, ['explain', ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe.each(['kubectl.1.27', 'kubectl.1.33'])('%s explain', (binary) => {
  test('a field prints its type and upstream description', async () => {
    const out = await explain(binary, 'deployment.spec.replicas');
    expect(out).toContain('KIND:       Deployment');
    expect(out).toContain('FIELD: replicas <integer>');
    expect(out).toContain('Number of desired pods. This is a pointer to distinguish between explicit');
  });

  test('a nested object lists its fields with types named as upstream names them', async () => {
    const out = await explain(binary, 'deployment.spec.strategy');
    expect(out).toContain('FIELD: strategy <DeploymentStrategy>');
    expect(out.match(/DeploymentStrategy describes how to replace existing pods with new ones\./g)).toHaveLength(1);
    expect(out).toMatch(/rollingUpdate\t<RollingUpdateDeployment>/);
    expect(out).toMatch(/type\t<string>\n\s+Type of deployment\. Can be "Recreate" or "RollingUpdate"/);
  });

  test('Quantity, IntOrString and required fields read as they do against a real cluster', async () => {
    expect(await explain(binary, 'pods.spec.containers.resources')).toMatch(/limits\t<map\[string\]Quantity>/);
    expect(await explain(binary, 'services.spec.ports')).toMatch(/targetPort\t<IntOrString>/);
    expect(await explain(binary, 'pods.spec')).toMatch(/containers\t<\[\]Container> -required-/);
  });

  test('--recursive walks the whole pod schema', async () => {
    const out = await explain(binary, 'pods', '--recursive');
    expect(out).toMatch(/^ {2}spec\t<PodSpec>$/m);
    expect(out).toMatch(/^ {4}containers\t<\[\]Container> -required-$/m);
    expect(out).toMatch(/^ {6}image\t<string>$/m);
    expect(out).toMatch(/^ {6}livenessProbe\t<Probe>$/m);
  });

  test('a custom resource is explained from its CRD schema', async () => {
    const out = await explain(binary, 'crontabs.spec');
    expect(out).toContain('GROUP:      stable.example.com');
    expect(out).toMatch(/cronSpec\t<string> -required-\n\s+When to run, in cron syntax\./);
    // kubectl 1.27's template does not print enums yet; 1.33's does.
    expect(out).toMatch(binary === 'kubectl.1.27' ? /mode\t<string>\n/ : /mode\t<string>\n\s+enum: Fast, Slow/);
  });

  test('an unknown field is reported as explain reports it', async () => {
    const result = await server.kubectl(binary, ['explain', 'deployment.spec.replicaz']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('field "replicaz" does not exist');
  });
});

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
`;

describe.each(['kubectl.1.27', 'kubectl.1.33'])('%s leaves field validation to the server', (binary) => {
  async function writes(args: string[]): Promise<string[]> {
    const file = join(dir, `${binary}.yaml`);
    await writeFile(file, manifest);
    const before = server.requests.length;
    const result = await server.kubectl(binary, [...args, '-f', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const requests = server.requests.slice(before);
    expect(requests.some((r) => r.url.startsWith('/openapi/v3/apis/apps/v1?hash='))).toBe(true);
    return requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);
  }

  test('apply', async () => {
    expect(await writes(['apply'])).toEqual(['POST /apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict']);
  });

  test('apply --server-side', async () => {
    expect(await writes(['apply', '--server-side'])).toEqual(['PATCH /apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl&fieldValidation=Strict&force=false']);
  });

  test('create -f', async () => {
    expect(await writes(['create'])).toEqual(['POST /apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-create&fieldValidation=Strict']);
  });
});

test.each(['kubectl.1.28', 'kubectl.1.29', 'kubectl.1.30', 'kubectl.1.31', 'kubectl.1.32'])('%s explains from and validates against the same documents', async (binary) => {
  expect(await explain(binary, 'deployment.spec.replicas')).toContain('Number of desired pods.');
  const file = join(dir, `${binary}.yaml`);
  await writeFile(file, manifest);
  const before = server.requests.length;
  const result = await server.kubectl(binary, ['apply', '-f', file]);
  expect(result.code).toBe(0);
  expect(server.requests.slice(before).filter((r) => r.method === 'POST').map((r) => r.url)).toEqual([
    '/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict',
  ]);
});
