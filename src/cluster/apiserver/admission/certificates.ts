// The certificate admission plugins kube-apiserver enables by default: CertificateApproval (an
// approval takes `approve` on the request's signer), CertificateSigning (setting the certificate
// takes `sign` on it) and CertificateSubjectRestriction (no client certificate for the
// system:masters group, which would be cluster-admin). RBAC grants `approve`/`sign` on the
// `signers` resource of certificates.k8s.io, named by signerName or its "<domain>/*".
import { asObject, str } from '../../json.ts';
import type { KubeObject } from '../../types.ts';
import { type AdmissionPlugin, type AdmissionRequest, CertificateRequestError, parseCertificateRequest, type Registry, type UserInfo } from '../../registry/index.ts';
import { authorizedByRbac } from '../auth/index.ts';
import { forbidden } from './forbidden.ts';

const GROUP = 'certificates.k8s.io';
const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

const signerOf = (csr: KubeObject | undefined) => str(asObject(csr?.spec)?.signerName) ?? '';
const statusOf = (csr: KubeObject | undefined) => asObject(csr?.status) ?? {};

/** IsAuthorizedForSignerName: the exact signer, else every signer of its domain. */
function authorizedForSigner(registry: Registry, user: UserInfo, verb: string, signerName: string): boolean {
  const ask = (name: string) => authorizedByRbac(registry, { user, verb, resourceRequest: true, apiGroup: GROUP, resource: 'signers', subresource: '', name, namespace: '', path: '' });
  if (ask(signerName)) return true;
  const slash = signerName.indexOf('/');
  return slash >= 0 && ask(`${signerName.slice(0, slash)}/*`);
}

const isCSR = (request: AdmissionRequest) => request.definition.group === GROUP && request.definition.resource === 'certificatesigningrequests';

export const certificateAdmission: AdmissionPlugin = {
  name: 'CertificateApproval,CertificateSigning,CertificateSubjectRestriction',
  validate(request) {
    if (!isCSR(request)) return;
    const { user } = request;
    if (request.operation === 'CREATE' && request.subresource === undefined && signerOf(request.object) === CLIENT_SIGNER) {
      let organizations: string[];
      try {
        organizations = parseCertificateRequest(Buffer.from(str(asObject(request.object?.spec)?.request) ?? '', 'base64').toString('latin1')).organizations;
      } catch (error) {
        if (!(error instanceof CertificateRequestError)) throw error;
        throw forbidden(request, `failed to parse CSR: ${error.message}`);
      }
      if (organizations.includes('system:masters')) throw forbidden(request, `use of ${CLIENT_SIGNER} signer with system:masters group is not allowed`);
    }
    // The cluster's own writes (no user) are not checked; the old object's signer is, whatever the update says.
    if (request.operation !== 'UPDATE' || !user) return;
    const signerName = signerOf(request.oldObject);
    if (request.subresource === 'approval' && !authorizedForSigner(request.registry, user, 'approve', signerName)) {
      throw forbidden(request, `user not permitted to approve requests with signerName "${signerName}"`);
    }
    if (request.subresource === 'status') {
      const [before, after] = [statusOf(request.oldObject), statusOf(request.object)];
      const changed = before.certificate !== after.certificate || JSON.stringify(before.conditions ?? []) !== JSON.stringify(after.conditions ?? []);
      if (changed && !authorizedForSigner(request.registry, user, 'sign', signerName)) throw forbidden(request, `user not permitted to sign requests with signerName "${signerName}"`);
    }
  },
};
