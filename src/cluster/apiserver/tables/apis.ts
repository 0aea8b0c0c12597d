// Printers for the non-core API groups this cluster serves: networking, discovery, rbac,
// autoscaling, policy, coordination and storage.
import { loadBalancerAddresses } from './core.ts';
import { asArray, asRecord, at, formatLabelSelector, humanDuration, int, intOrString, since, str } from './format.ts';
import { ageColumn, column, nameColumn, wide, type Printer } from './printer.ts';

function ingressHosts(rules: unknown): string {
  const list: string[] = [];
  const all = asArray(rules).map(asRecord);
  const max = 3;
  let more = false;
  for (const rule of all) {
    if (list.length === max) more = true;
    if (!more && str(rule.host)) list.push(str(rule.host));
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${all.length - max} more...` : list.join(',');
}

export const ingressPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    return {
      cells: [
        o.metadata.name ?? '',
        typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>',
        ingressHosts(spec.rules),
        loadBalancerAddresses(at(o, 'status', 'loadBalancer')),
        asArray(spec.tls).length > 0 ? '80, 443' : '80',
        since(o.metadata.creationTimestamp, now),
      ],
    };
  },
};

export const ingressClassPrinter: Printer = {
  columns: [nameColumn(), column('Controller', 'string', 'Controller that is responsible for handling this class'), column('Parameters', 'string', 'A reference to a resource with additional parameters'), ageColumn()],
  print(o, now) {
    const parametersRef = at(o, 'spec', 'parameters');
    let parameters = '<none>';
    if (parametersRef !== undefined && parametersRef !== null) {
      const p = asRecord(parametersRef);
      parameters = str(p.kind);
      if (typeof p.apiGroup === 'string') parameters += `.${p.apiGroup}`;
      parameters += `/${str(p.name)}`;
    }
    return { cells: [o.metadata.name ?? '', str(at(o, 'spec', 'controller')), parameters, since(o.metadata.creationTimestamp, now)] };
  },
};

export const networkPolicyPrinter: Printer = {
  columns: [nameColumn(), column('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', formatLabelSelector(at(o, 'spec', 'podSelector') ?? {}), since(o.metadata.creationTimestamp, now)] };
  },
};

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const joined = list.join(',');
  if (more) return `${joined} + ${count - max} more...`;
  return joined === '' ? '<unset>' : joined;
}

export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn(),
    column('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
    column('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    column('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
    ageColumn(),
  ],
  print(o, now) {
    const max = 3;
    const ports: string[] = [];
    let portsMore = false;
    let portCount = 0;
    for (const port of asArray(o.ports).map(asRecord)) {
      if (ports.length < max) ports.push(typeof port.port === 'number' ? String(port.port) : typeof port.name === 'string' ? port.name : '*');
      else if (ports.length === max) portsMore = true;
      portCount++;
    }
    const addresses: string[] = [];
    let addressesMore = false;
    let addressCount = 0;
    for (const endpoint of asArray(o.endpoints).map(asRecord)) {
      for (const address of asArray(endpoint.addresses).map(String)) {
        if (addresses.length < max) addresses.push(address);
        else if (addresses.length === max) addressesMore = true;
        addressCount++;
      }
    }
    return {
      cells: [o.metadata.name ?? '', str(o.addressType), listWithMore(ports, portsMore, portCount, max), listWithMore(addresses, addressesMore, addressCount, max), since(o.metadata.creationTimestamp, now)],
    };
  },
};

function bindingPrinter(kind: 'roleBinding' | 'clusterRoleBinding'): Printer {
  return {
    columns: [
      nameColumn(),
      column('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
      ageColumn(),
      column('Users', 'string', `Users in the ${kind}`, wide),
      column('Groups', 'string', `Groups in the ${kind}`, wide),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`, wide),
    ],
    print(o, now) {
      const roleRef = asRecord(o.roleRef);
      const users: string[] = [];
      const groups: string[] = [];
      const serviceAccounts: string[] = [];
      for (const subject of asArray(o.subjects).map(asRecord)) {
        if (subject.kind === 'ServiceAccount') serviceAccounts.push(`${str(subject.namespace)}/${str(subject.name)}`);
        else if (subject.kind === 'User') users.push(str(subject.name));
        else if (subject.kind === 'Group') groups.push(str(subject.name));
      }
      return { cells: [o.metadata.name ?? '', `${str(roleRef.kind)}/${str(roleRef.name)}`, since(o.metadata.creationTimestamp, now), users.join(', '), groups.join(', '), serviceAccounts.join(', ')] };
    },
  };
}

export const roleBindingPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding');

const percent = (value: unknown): string => `${int(value)}%`;

function quantity(value: unknown): string {
  return value === undefined || value === null ? '0' : String(value);
}

/** autoscaling/v1 objects carry one CPU target; the internal version sees it as a Resource metric. */
function hpaMetrics(spec: Record<string, unknown>, status: Record<string, unknown>): { specs: Record<string, unknown>[]; statuses: Record<string, unknown>[] } {
  if (spec.metrics === undefined && typeof spec.targetCPUUtilizationPercentage === 'number') {
    const current = status.currentCPUUtilizationPercentage;
    return {
      specs: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }],
      statuses: typeof current === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }] : [],
    };
  }
  return { specs: asArray(spec.metrics).map(asRecord), statuses: asArray(status.currentMetrics).map(asRecord) };
}

/** formatHPAMetrics: "<current>/<target>" per metric, two at most, then "+ N more...". */
export function formatHpaTargets(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const { specs, statuses } = hpaMetrics(spec, status);
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  specs.forEach((metric, i) => {
    const current = statuses[i];
    const sourceStatus = (key: string): Record<string, unknown> | undefined => {
      const s = current?.[key];
      return s === undefined || s === null ? undefined : asRecord(s);
    };
    switch (metric.type) {
      case 'External':
      case 'Object': {
        const key = metric.type === 'External' ? 'external' : 'object';
        const target = asRecord(at(metric, key, 'target'));
        const s = sourceStatus(key);
        if (target.averageValue !== undefined) {
          const cur = s && at(s, 'current', 'averageValue') !== undefined ? quantity(at(s, 'current', 'averageValue')) : '<unknown>';
          list.push(`${cur}/${quantity(target.averageValue)} (avg)`);
        } else {
          const cur = s ? quantity(at(s, 'current', 'value')) : '<unknown>';
          list.push(`${cur}/${quantity(target.value)}`);
        }
        break;
      }
      case 'Pods': {
        const s = sourceStatus('pods');
        const cur = s ? quantity(at(s, 'current', 'averageValue')) : '<unknown>';
        list.push(`${cur}/${quantity(at(metric, 'pods', 'target', 'averageValue'))}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = metric.type === 'Resource' ? 'resource' : 'containerResource';
        const source = asRecord(metric[key]);
        const target = asRecord(source.target);
        const s = sourceStatus(key);
        if (target.averageValue !== undefined) {
          const cur = s ? quantity(at(s, 'current', 'averageValue')) : '<unknown>';
          list.push(`${str(source.name)}: ${cur}/${quantity(target.averageValue)}`);
        } else {
          const utilization = s ? at(s, 'current', 'averageUtilization') : undefined;
          const cur = typeof utilization === 'number' ? percent(utilization) : '<unknown>';
          const goal = typeof target.averageUtilization === 'number' ? percent(target.averageUtilization) : '<auto>';
          list.push(`${str(source.name)}: ${cur}/${goal}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const horizontalPodAutoscalerPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Reference', 'string', 'scaleTargetRef points to the target resource to scale.'),
    column('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
    column('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    column('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    column('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler.'),
    ageColumn(),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const ref = asRecord(spec.scaleTargetRef);
    return {
      cells: [
        o.metadata.name ?? '',
        `${str(ref.kind)}/${str(ref.name)}`,
        formatHpaTargets(spec, status),
        typeof spec.minReplicas === 'number' ? String(spec.minReplicas) : '<unset>',
        int(spec.maxReplicas),
        int(status.currentReplicas),
        since(o.metadata.creationTimestamp, now),
      ],
    };
  },
};

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn(),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const bound = (v: unknown): string => (v === undefined || v === null ? 'N/A' : intOrString(v));
    return { cells: [o.metadata.name ?? '', bound(spec.minAvailable), bound(spec.maxUnavailable), int(at(o, 'status', 'disruptionsAllowed')), since(o.metadata.creationTimestamp, now)] };
  },
};

export const leasePrinter: Printer = {
  columns: [nameColumn(), column('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', str(at(o, 'spec', 'holderIdentity')), since(o.metadata.creationTimestamp, now)] };
  },
};

function isDefaultStorageClass(annotations: Record<string, string> | undefined): boolean {
  return annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' || annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
}

export const storageClassPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    column('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    column('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageColumn(),
  ],
  print(o, now) {
    const name = (o.metadata.name ?? '') + (isDefaultStorageClass(o.metadata.annotations) ? ' (default)' : '');
    return {
      cells: [name, str(o.provisioner), str(o.reclaimPolicy) || 'Delete', str(o.volumeBindingMode) || 'Immediate', o.allowVolumeExpansion === true, since(o.metadata.creationTimestamp, now)],
    };
  },
};

export const priorityClassPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
    column('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
    ageColumn(),
    column('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
  ],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', typeof o.value === 'number' ? o.value : 0, o.globalDefault === true, since(o.metadata.creationTimestamp, now), str(o.preemptionPolicy)] };
  },
};

/** kube-aggregator's APIService table: who serves the group/version, and whether it is Available. */
export const apiServicePrinter: Printer = {
  columns: [
    nameColumn(),
    column('Service', 'string', 'The reference to the service that hosts this API endpoint.'),
    column('Available', 'string', 'Whether this service is available.'),
    ageColumn(),
  ],
  print(o, now) {
    const service = asRecord(at(o, 'spec', 'service'));
    const reference = str(service.name) ? `${str(service.namespace)}/${str(service.name)}` : 'Local';
    const available = asArray(at(o, 'status', 'conditions')).map(asRecord).find((c) => c.type === 'Available');
    const status = !available ? 'Unknown' : available.status !== 'True' && str(available.reason) ? `${str(available.status)} (${str(available.reason)})` : str(available.status);
    return { cells: [o.metadata.name ?? '', reference, status, since(o.metadata.creationTimestamp, now)] };
  },
};

/** Validating and MutatingWebhookConfigurations: how many webhooks each registers. */
export const webhookConfigurationPrinter: Printer = {
  columns: [nameColumn(), column('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', asArray(at(o, 'webhooks')).length, since(o.metadata.creationTimestamp, now)] };
  },
};

/** extractCSRStatus: Denied over Approved over Pending, then Failed and Issued. */
function certificateRequestCondition(o: Record<string, unknown>): string {
  const types = new Set(asArray(at(o, 'status', 'conditions')).map((condition) => str(asRecord(condition).type)));
  let condition = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) condition += ',Failed';
  if (str(at(o, 'status', 'certificate')) !== '') condition += ',Issued';
  return condition;
}

export const certificateSigningRequestPrinter: Printer = {
  columns: [
    nameColumn(),
    ageColumn(),
    column('SignerName', 'string', 'Only one signer name is allowed per CertificateSigningRequest.'),
    column('Requestor', 'string', 'Name of the user who created the CertificateSigningRequest.'),
    column('RequestedDuration', 'string', 'Requested duration of the certificate.'),
    column('Condition', 'string', 'Approval and issuance state of the CertificateSigningRequest.'),
  ],
  print(o, now) {
    const seconds = at(o, 'spec', 'expirationSeconds');
    return {
      cells: [
        o.metadata.name ?? '',
        since(o.metadata.creationTimestamp, now),
        str(at(o, 'spec', 'signerName')),
        str(at(o, 'spec', 'username')),
        typeof seconds === 'number' ? humanDuration(seconds * 1000) : '<none>',
        certificateRequestCondition(o),
      ],
    };
  },
};
