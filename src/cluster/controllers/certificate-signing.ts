// The csrsigning controller, as kube-controller-manager runs it on a kubeadm cluster: an approved
// CertificateSigningRequest for one of the kubernetes.io signers gets its certificate, signed by
// the cluster CA, in status.certificate. The certificate carries the request's subject (the user
// is its CN, the groups its O) and names, the usages the request asked for, and lives for
// expirationSeconds, at most a year (--cluster-signing-duration), backdated five minutes. A
// request a signer cannot honour gets a Failed condition (SignerValidationFailure) instead.
import { asArray, asObject, type Json, str, strings } from '../json.ts';
import type { KubeObject } from '../types.ts';
import { parseCertificateRequest } from '../registry/index.ts';
import type { ControllerContext } from './context.ts';
import { objectKey, type RunningController, startController } from './runtime.ts';

export interface ClusterSigningKey {
  caPem: string;
  caKeyPem: string;
}

const SIGNING_DURATION_MS = 365 * 24 * 3600_000;
const BACKDATE_MS = 5 * 60_000;

type Check = (subject: { commonName: string; organizations: string[] }, usages: string[]) => string | undefined;

/** validAPIServerClientUsages. */
const clientUsages: Check = (_subject, usages) => {
  for (const usage of usages) if (!['digital signature', 'key encipherment', 'client auth'].includes(usage)) return `invalid usage for client certificate: ${usage}`;
  return usages.includes('client auth') ? undefined : 'missing required usage for client certificate: client auth';
};

/** The signers kube-controller-manager runs with --cluster-signing-cert-file/--cluster-signing-key-file, and what each accepts. */
const signers: Record<string, Check> = {
  'kubernetes.io/kube-apiserver-client': clientUsages,
  'kubernetes.io/kube-apiserver-client-kubelet': (subject, usages) => {
    if (subject.organizations.length !== 1 || subject.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
    if (!subject.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
    return clientUsages(subject, usages);
  },
  'kubernetes.io/kubelet-serving': (subject, usages) => {
    if (subject.organizations.length !== 1 || subject.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
    if (!subject.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
    for (const usage of usages) if (!['digital signature', 'key encipherment', 'server auth'].includes(usage)) return `invalid usage for kubelet serving certificate: ${usage}`;
    return usages.includes('server auth') ? undefined : 'missing required usage for kubelet serving certificate: server auth';
  },
  'kubernetes.io/legacy-unknown': () => undefined,
};

const hasCondition = (csr: KubeObject, type: string) => asArray(asObject(csr['status'])?.['conditions']).some((condition) => asObject(condition)?.['type'] === type);

function pemBody(pem: string): ArrayBuffer {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

async function sign(request: string, usages: string[], expirationSeconds: number | undefined, key: ClusterSigningKey, now: Date): Promise<string> {
  // The x509 library loads on the first approved request, never at start.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const csr = new x509.Pkcs10CertificateRequest(request);
  const ca = new x509.X509Certificate(key.caPem);
  const caKey = await crypto.subtle.importKey('pkcs8', pemBody(key.caKeyPem), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const lifetime = Math.min(SIGNING_DURATION_MS, expirationSeconds === undefined ? SIGNING_DURATION_MS : expirationSeconds * 1000);
  const flags = x509.KeyUsageFlags;
  const keyUsage: Record<string, number> = {
    'digital signature': flags.digitalSignature,
    'content commitment': flags.nonRepudiation,
    'key encipherment': flags.keyEncipherment,
    'data encipherment': flags.dataEncipherment,
    'key agreement': flags.keyAgreement,
    'cert sign': flags.keyCertSign,
    'crl sign': flags.cRLSign,
    'encipher only': flags.encipherOnly,
    'decipher only': flags.decipherOnly,
  };
  const extendedUsage: Record<string, string> = {
    'server auth': x509.ExtendedKeyUsage.serverAuth,
    'client auth': x509.ExtendedKeyUsage.clientAuth,
    'code signing': x509.ExtendedKeyUsage.codeSigning,
    'email protection': x509.ExtendedKeyUsage.emailProtection,
    'timestamping': x509.ExtendedKeyUsage.timeStamping,
    'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
  };
  const usageBits = usages.reduce((bits, usage) => bits | (keyUsage[usage] ?? 0), 0);
  const extended = usages.flatMap((usage) => (extendedUsage[usage] ? [extendedUsage[usage]] : []));
  // subjectAltName (2.5.29.17), carried over as the request has it
  const names = csr.getExtension('2.5.29.17');
  const certificate = await x509.X509CertificateGenerator.create({
    subject: csr.subject,
    issuer: ca.subject,
    publicKey: csr.publicKey,
    signingKey: caKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + lifetime),
    extensions: [
      // As Go's x509.CreateCertificate: no key usage extension when no usage asks for a bit.
      ...(usageBits !== 0 ? [new x509.KeyUsagesExtension(usageBits, true)] : []),
      ...(extended.length > 0 ? [new x509.ExtendedKeyUsageExtension(extended)] : []),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      ...(names ? [names] : []),
    ],
  });
  return certificate.toString('pem') + '\n';
}

export function startCertificateSigning(ctx: ControllerContext, key: ClusterSigningKey): RunningController {
  const client = ctx.clientFor('certificate-controller');
  const requests = () => client.resource('certificates.k8s.io', 'v1', 'certificatesigningrequests');
  return startController(ctx.registry, {
    name: 'csrsigning',
    clock: ctx.clock,
    onError: (name, error) => ctx.reportError('csrsigning', name, error),
    sources: [{ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', keys: (csr) => [objectKey(csr)] }],
    async reconcile(name) {
      const csr = requests().get(undefined, name);
      if (!csr || !hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied') || hasCondition(csr, 'Failed')) return;
      const spec = asObject(csr['spec']) ?? {};
      if (str(asObject(csr['status'])?.['certificate'])) return;
      const check = signers[str(spec['signerName']) ?? ''];
      if (!check) return;
      const request = Buffer.from(str(spec['request']) ?? '', 'base64').toString('latin1');
      const usages = strings(spec['usages']);
      const problem = check(parseCertificateRequest(request), usages);
      const now = ctx.clock.now();
      const certificate = problem ? undefined : await sign(request, usages, typeof spec['expirationSeconds'] === 'number' ? spec['expirationSeconds'] : undefined, key, now);
      requests().mutate(
        undefined,
        name,
        (draft) => {
          const status = (asObject(draft['status']) ?? {}) as Json;
          draft['status'] = status;
          if (str(status['certificate']) || hasCondition(draft, 'Failed')) return false;
          if (certificate) status['certificate'] = Buffer.from(certificate).toString('base64');
          else {
            const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
            status['conditions'] = [...asArray(status['conditions']), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: stamp, lastTransitionTime: stamp }];
          }
          return true;
        },
        'status',
      );
    },
  });
}
