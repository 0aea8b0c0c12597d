// CertificateSigningRequests as the CKA exercise uses them, with kubectl 1.27 and 1.33 and
// openssl: a key and a request for jane, the CSR created, approved with `kubectl certificate
// approve`, its certificate in a kubeconfig user, and jane then authenticated by that certificate
// (RBAC decides what she may do). Denial, the signer's refusal of a server usage, and upstream's
// validation messages too.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKubectl, startTestCluster, type TestCluster } from '../apiserver/harness.ts';

const run = promisify(execFile);
let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** openssl genrsa + req, as the exercise does; the request's PEM. */
async function request(name: string, subject: string): Promise<{ key: string; csr: string }> {
  const key = join(t.dir, `${name}.key`);
  const csr = join(t.dir, `${name}.csr`);
  await run('openssl', ['genrsa', '-out', key, '2048']);
  await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', subject]);
  return { key, csr: await readFile(csr, 'utf8') };
}

function manifest(name: string, csr: string, usages = ['client auth'], signerName = 'kubernetes.io/kube-apiserver-client'): string {
  return JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csr).toString('base64'), signerName, expirationSeconds: 86400, usages },
  });
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const versions = ['1.27', '1.33'].filter(hasKubectl);

describe.each(versions)('certificate signing requests with kubectl %s', (version) => {
  const user = `jane${version.replace('.', '')}`;
  const kubectl = (args: string[], stdin?: string, kubeconfig?: string) => t.kubectl(args, { version, ...(stdin === undefined ? {} : { stdin }), ...(kubeconfig ? { kubeconfig } : {}) });

  it('approve → certificate → a kubeconfig user that authenticates as jane, whom RBAC then governs', async () => {
    const { key, csr } = await request(user, `/CN=${user}/O=developers`);
    expect((await kubectl(['apply', '-f', '-'], manifest(user, csr))).stdout).toBe(`certificatesigningrequest.certificates.k8s.io/${user} created\n`);
    const pending = await kubectl(['get', 'csr', user]);
    expect(pending.stdout).toMatch(new RegExp(`^NAME\\s+AGE\\s+SIGNERNAME\\s+REQUESTOR\\s+REQUESTEDDURATION\\s+CONDITION\\n${user}\\s+\\S+\\s+kubernetes.io/kube-apiserver-client\\s+kubernetes-admin\\s+24h\\s+Pending\\n$`));

    const approved = await kubectl(['certificate', 'approve', user]);
    expect(approved.stdout, approved.stderr).toBe(`certificatesigningrequest.certificates.k8s.io/${user} approved\n`);
    const certificate = await until('the certificate', async () => (await kubectl(['get', 'csr', user, '-o', 'jsonpath={.status.certificate}'])).stdout || undefined);
    expect((await kubectl(['get', 'csr', user])).stdout).toMatch(/Approved,Issued\n$/);

    const crt = join(t.dir, `${user}.crt`);
    await writeFile(crt, Buffer.from(certificate, 'base64'));
    const subject = await run('openssl', ['x509', '-in', crt, '-noout', '-subject']);
    expect(subject.stdout).toMatch(new RegExp(`CN *= *${user}`));

    const kubeconfig = join(t.dir, `${user}.kubeconfig`);
    await writeFile(kubeconfig, await readFile(t.kubeconfig, 'utf8'));
    expect((await kubectl(['config', 'set-credentials', user, `--client-key=${key}`, `--client-certificate=${crt}`, '--embed-certs=true'], undefined, kubeconfig)).code).toBe(0);
    expect((await kubectl(['config', 'set-context', user, '--cluster=formicary', `--user=${user}`, '--namespace=default'], undefined, kubeconfig)).code).toBe(0);

    const before = await kubectl(['--context', user, 'auth', 'can-i', 'list', 'pods'], undefined, kubeconfig);
    expect(before.stdout, before.stderr).toBe('no\n');
    const forbidden = await kubectl(['--context', user, 'get', 'pods'], undefined, kubeconfig);
    expect(forbidden.stderr).toContain(`User "${user}" cannot list resource "pods" in API group "" in the namespace "default"`);

    expect((await kubectl(['create', 'role', `developer-${user}`, '--verb=list', '--resource=pods'])).code).toBe(0);
    expect((await kubectl(['create', 'rolebinding', `developer-${user}`, `--role=developer-${user}`, `--user=${user}`])).code).toBe(0);
    expect((await kubectl(['--context', user, 'auth', 'can-i', 'list', 'pods'], undefined, kubeconfig)).stdout).toBe('yes\n');
    expect((await kubectl(['--context', user, 'auth', 'can-i', 'create', 'pods'], undefined, kubeconfig)).stdout).toBe('no\n');
    // The O of the certificate is a group: a binding to the group is honoured too.
    expect((await kubectl(['auth', 'can-i', 'list', 'pods', `--as=${user}`, '--as-group=developers'])).stdout).toBe('yes\n');
  });

  it('deny leaves the request without a certificate; a server usage for the client signer fails', async () => {
    const denied = `denied${version.replace('.', '')}`;
    expect((await kubectl(['apply', '-f', '-'], manifest(denied, (await request(denied, `/CN=${denied}`)).csr))).code).toBe(0);
    expect((await kubectl(['certificate', 'deny', denied])).stdout).toBe(`certificatesigningrequest.certificates.k8s.io/${denied} denied\n`);
    expect((await kubectl(['get', 'csr', denied])).stdout).toMatch(/\sDenied\n$/);
    expect((await kubectl(['get', 'csr', denied, '-o', 'jsonpath={.status.certificate}'])).stdout).toBe('');

    const server = `server${version.replace('.', '')}`;
    const serverCsr = await kubectl(['apply', '-f', '-'], manifest(server, (await request(server, `/CN=${server}`)).csr, ['server auth']));
    expect(serverCsr.code, serverCsr.stderr).toBe(0);
    expect((await kubectl(['certificate', 'approve', server])).code).toBe(0);
    const message = await until('the Failed condition', async () => (await kubectl(['get', 'csr', server, '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].message}'])).stdout || undefined);
    expect(message).toBe('invalid usage for client certificate: server auth');
    expect((await kubectl(['get', 'csr', server])).stdout).toMatch(/Approved,Failed\n$/);
  });

  it('refuses what upstream refuses, with its words', async () => {
    const { csr } = await request(`bad${version.replace('.', '')}`, '/CN=bad');
    const signer = await kubectl(['apply', '-f', '-'], manifest(`signer${version.replace('.', '')}`, csr, ['client auth'], 'example'));
    expect(signer.stderr).toContain(`spec.signerName: Invalid value: "example": must be a fully qualified domain and path of the form 'example.com/signer-name'`);
    const usage = await kubectl(['apply', '-f', '-'], manifest(`usage${version.replace('.', '')}`, csr, ['flying']));
    expect(usage.stderr).toContain('spec.usages[0]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth"');
    const notARequest = await kubectl(['apply', '-f', '-'], manifest(`pem${version.replace('.', '')}`, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'));
    expect(notARequest.stderr).toContain('spec.request: Invalid value: []byte{0x2d, 0x2d');
    expect(notARequest.stderr).toContain('PEM block type must be CERTIFICATE REQUEST');
    // Approval conditions change only through /approval: an update of the main resource keeps them out.
    const name = `status${version.replace('.', '')}`;
    expect((await kubectl(['apply', '-f', '-'], manifest(name, csr))).code).toBe(0);
    const patched = await kubectl(['patch', 'csr', name, '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"Sneaky"}]}}']);
    expect(patched.stderr).toContain('status.conditions: Forbidden: updates may not add a condition of type "Approved"');
  });

  it('approving takes approve on the signer, and no one gets a system:masters client certificate', async () => {
    const v = version.replace('.', '');
    const { csr } = await request(`bob${v}`, `/CN=bob${v}`);
    expect((await kubectl(['apply', '-f', '-'], manifest(`bob${v}`, csr))).code).toBe(0);
    const role = (name: string, rules: unknown[]) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
    const approver = `csr-approver-${v}`;
    expect((await kubectl(['apply', '-f', '-'], role(approver, [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list'] }, { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] }]))).code).toBe(0);
    expect((await kubectl(['create', 'clusterrolebinding', approver, `--clusterrole=${approver}`, `--user=approver${v}`])).code).toBe(0);
    const refused = await kubectl(['certificate', 'approve', `bob${v}`, `--as=approver${v}`]);
    expect(refused.stderr).toBe(`Error from server (Forbidden): certificatesigningrequests.certificates.k8s.io "bob${v}" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"\n`);
    const signers = `signer-approver-${v}`;
    expect((await kubectl(['apply', '-f', '-'], role(signers, [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/*'], verbs: ['approve'] }]))).code).toBe(0);
    expect((await kubectl(['create', 'clusterrolebinding', signers, `--clusterrole=${signers}`, `--user=approver${v}`])).code).toBe(0);
    expect((await kubectl(['certificate', 'approve', `bob${v}`, `--as=approver${v}`])).stdout).toBe(`certificatesigningrequest.certificates.k8s.io/bob${v} approved\n`);

    const masters = await request(`root${v}`, `/CN=root${v}/O=system:masters`);
    const refusedMasters = await kubectl(['apply', '-f', '-'], manifest(`root${v}`, masters.csr));
    expect(refusedMasters.stderr).toContain(`certificatesigningrequests.certificates.k8s.io "root${v}" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed`);
  });
});

