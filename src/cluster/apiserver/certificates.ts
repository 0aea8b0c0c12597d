// The cluster's serving certificates: a private CA (whose PEM goes into every kubeconfig as
// certificate-authority-data) and a server certificate for 127.0.0.1/localhost signed by it.
// Generated once and kept in the data dir, so kubeconfigs written earlier stay valid. The CA's key
// stays too: it signs the client certificates approved CertificateSigningRequests ask for, as
// kubeadm's controller-manager signs with /etc/kubernetes/pki/ca.key. A data dir from before the
// key was kept gets a new CA once.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface ServingCertificates {
  caPem: string;
  /** PKCS#8 PEM of the CA's private key (mode 0600 in the data dir). */
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

const files = { ca: 'ca.crt', caKey: 'ca.key', cert: 'server.crt', key: 'server.key' } as const;

/**
 * Reads the certificates from `dir`, or generates and stores them when any is missing. `extraNames`
 * (`--tls-san`: IP addresses or DNS names, e.g. the Service a cluster in a pod is reached by) go
 * into a new server certificate beside the usual ones.
 */
export async function loadOrCreateServingCertificates(dir: string, extraNames: string[] = []): Promise<ServingCertificates> {
  const existing = await readCertificates(dir);
  if (existing) return existing;
  const created = await createServingCertificates(new Date(), extraNames);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, files.ca), created.caPem, { mode: 0o644 });
  await writeFile(join(dir, files.caKey), created.caKeyPem, { mode: 0o600 });
  await writeFile(join(dir, files.cert), created.certPem, { mode: 0o644 });
  await writeFile(join(dir, files.key), created.keyPem, { mode: 0o600 });
  return created;
}

async function readCertificates(dir: string): Promise<ServingCertificates | undefined> {
  try {
    const [caPem, caKeyPem, certPem, keyPem] = await Promise.all([
      readFile(join(dir, files.ca), 'utf8'),
      readFile(join(dir, files.caKey), 'utf8'),
      readFile(join(dir, files.cert), 'utf8'),
      readFile(join(dir, files.key), 'utf8'),
    ]);
    return { caPem, caKeyPem, certPem, keyPem };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** ECDSA P-256 keeps first start fast (RSA key generation alone can take a second). */
async function createServingCertificates(now: Date, extraNames: string[]): Promise<ServingCertificates> {
  // Loaded only on first start: the reuse path stays free of the x509 library's load time.
  // @peculiar/x509 needs the Reflect metadata API before it loads.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600_000);

  const caKeys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=formicary-ca',
    keys: caKeys,
    signingAlgorithm: algorithm,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    subject: 'CN=formicary-apiserver',
    issuer: ca.subject,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
        { type: 'dns', value: 'localhost' },
        // As kubeadm's apiserver certificate: the `kubernetes` Service by every name and its cluster IP, as pods reach it.
        { type: 'ip', value: '10.96.0.1' },
        { type: 'dns', value: 'kubernetes' },
        { type: 'dns', value: 'kubernetes.default' },
        { type: 'dns', value: 'kubernetes.default.svc' },
        { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
        ...extraNames.map((name) => ({ type: isIP(name) ? ('ip' as const) : ('dns' as const), value: name })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const pkcs8 = await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey);
  const caPkcs8 = await crypto.subtle.exportKey('pkcs8', caKeys.privateKey);
  return {
    caPem: ca.toString('pem') + '\n',
    caKeyPem: x509.PemConverter.encode(caPkcs8, 'PRIVATE KEY') + '\n',
    certPem: server.toString('pem') + '\n',
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
  };
}
