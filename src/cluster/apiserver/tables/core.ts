// Printers for core/v1 resources other than pods, after pkg/printers/internalversion/printers.go.
import type { KubeObject } from '../../types.ts';
import { eventsV1ToEvent } from '../../registry/index.ts';
import { asArray, asRecord, at, formatLabels, int, since, str } from './format.ts';
import { ageColumn, column, nameColumn, wide, type Printer } from './printer.ts';

/** loadBalancerStatusStringer: sorted unique IPs or hostnames, clipped unless wide (the server always prints wide). */
export function loadBalancerAddresses(status: unknown): string {
  const result = new Set<string>();
  for (const ingress of asArray(at(status, 'ingress')).map(asRecord)) {
    if (str(ingress.ip)) result.add(str(ingress.ip));
    else if (str(ingress.hostname)) result.add(str(ingress.hostname));
  }
  return [...result].sort().join(',');
}

function serviceExternalIP(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const externalIPs = asArray(spec.externalIPs).map(String);
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(status.loadBalancer);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

function servicePorts(ports: unknown): string {
  return asArray(ports)
    .map(asRecord)
    .map((p) => {
      const protocol = str(p.protocol) || 'TCP';
      return int(p.nodePort) > 0 ? `${int(p.port)}:${int(p.nodePort)}/${protocol}` : `${int(p.port)}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: Printer = {
  columns: [
    nameColumn(),
    column('Type', 'string', 'type determines how the Service is exposed. Defaults to ClusterIP.'),
    column('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    column('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    column('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    ageColumn(),
    column('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    // The internal version fills clusterIPs from clusterIP.
    const clusterIP = str(asArray(spec.clusterIPs)[0]) || str(spec.clusterIP) || '<none>';
    return {
      cells: [o.metadata.name ?? '', str(spec.type) || 'ClusterIP', clusterIP, serviceExternalIP(spec, status), servicePorts(spec.ports) || '<none>', since(o.metadata.creationTimestamp, now), formatLabels(spec.selector)],
    };
  },
};

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** formatEndpoints: at most three addresses, then "+ N more...". */
export function formatEndpoints(endpoints: KubeObject): string {
  const subsets = asArray(endpoints.subsets).map(asRecord);
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const subset of subsets) {
    const addresses = asArray(subset.addresses).map(asRecord);
    const ports = asArray(subset.ports).map(asRecord);
    if (ports.length === 0) {
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(address.ip));
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(hostPort(str(address.ip), int(port.port)));
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

export const endpointsPrinter: Printer = {
  columns: [nameColumn(), column('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', formatEndpoints(o), since(o.metadata.creationTimestamp, now)] };
  },
};

export const configMapPrinter: Printer = {
  columns: [nameColumn(), column('Data', 'string', 'Data contains the configuration data.'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', Object.keys(asRecord(o.data)).length + Object.keys(asRecord(o.binaryData)).length, since(o.metadata.creationTimestamp, now)] };
  },
};

export const secretPrinter: Printer = {
  columns: [nameColumn(), column('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), column('Data', 'string', 'Data contains the secret data.'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', str(o.type) || 'Opaque', Object.keys(asRecord(o.data)).length, since(o.metadata.creationTimestamp, now)] };
  },
};

export const serviceAccountPrinter: Printer = {
  columns: [nameColumn(), column('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', asArray(o.secrets).length, since(o.metadata.creationTimestamp, now)] };
  },
};

export const namespacePrinter: Printer = {
  columns: [nameColumn(), column('Status', 'string', 'The status of the namespace'), ageColumn()],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', str(at(o, 'status', 'phase')), since(o.metadata.creationTimestamp, now)] };
  },
};

function nodeAddress(node: KubeObject, type: string): string {
  const address = asArray(at(node, 'status', 'addresses'))
    .map(asRecord)
    .find((a) => a.type === type);
  return address ? str(address.address) : '<none>';
}

/** findNodeRoles: node-role.kubernetes.io/<role> labels and the kubernetes.io/role label. */
function nodeRoles(node: KubeObject): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (key === 'kubernetes.io/role' && value !== '') {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

export const nodePrinter: Printer = {
  columns: [
    nameColumn(),
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn(),
    column('Version', 'string', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', 'List of addresses reachable to the node.', wide),
    column('External-IP', 'string', 'List of addresses reachable to the node.', wide),
    column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', wide),
    column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", wide),
    column('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', wide),
  ],
  print(o, now) {
    const status: string[] = [];
    const ready = asArray(at(o, 'status', 'conditions'))
      .map(asRecord)
      .findLast((c) => c.type === 'Ready');
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (status.length === 0) status.push('Unknown');
    if (at(o, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
    const info = asRecord(at(o, 'status', 'nodeInfo'));
    return {
      cells: [
        o.metadata.name ?? '',
        status.join(','),
        nodeRoles(o).join(',') || '<none>',
        since(o.metadata.creationTimestamp, now),
        str(info.kubeletVersion),
        nodeAddress(o, 'InternalIP'),
        nodeAddress(o, 'ExternalIP'),
        str(info.osImage) || '<unknown>',
        str(info.kernelVersion) || '<unknown>',
        str(info.containerRuntimeVersion) || '<unknown>',
      ],
    };
  },
};

function eventSource(o: KubeObject): string {
  const component = str(at(o, 'source', 'component')) || str(o.reportingController);
  const host = str(at(o, 'source', 'host')) || str(o.reportingInstance);
  return host ? `${component}, ${host}` : component;
}

export const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    column('Object', 'string', 'The object that this event is about.'),
    column('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', wide),
    column('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', wide),
    column('Message', 'string', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', wide),
    column('Count', 'string', 'The number of times this event has occurred.', wide),
    column('Name', 'string', 'Name must be unique within a namespace.', { priority: 1, format: 'name' }),
  ],
  print(o, now) {
    let firstSeen = since(o.firstTimestamp, now);
    if (!str(o.firstTimestamp)) firstSeen = since(o.eventTime, now);
    let lastSeen = since(o.lastTimestamp, now);
    if (!str(o.lastTimestamp)) lastSeen = firstSeen;
    let count = int(o.count);
    const series = o.series === null || o.series === undefined ? undefined : asRecord(o.series);
    if (series) {
      lastSeen = since(series.lastObservedTime, now);
      count = int(series.count);
    } else if (count === 0) {
      count = 1;
    }
    const involved = asRecord(o.involvedObject);
    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name) ? `${kind}/${str(involved.name)}` : kind;
    return { cells: [lastSeen, str(o.type), str(o.reason), target, str(involved.fieldPath), eventSource(o), str(o.message).trim(), firstSeen, count, o.metadata.name ?? ''] };
  },
};

/** events.k8s.io/v1 Events print as core Events do (upstream prints both from the one internal type). */
export const eventsV1Printer: Printer = {
  columns: eventPrinter.columns,
  print: (o, now) => eventPrinter.print(eventsV1ToEvent(o), now),
};

/** GetAccessModesAsString: fixed order, duplicates dropped. */
export function accessModes(modes: unknown): string {
  const set = new Set(asArray(modes).map(String));
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

function storageClassOf(o: KubeObject): string {
  const annotated = o.metadata.annotations?.[betaStorageClassAnnotation];
  if (annotated !== undefined) return annotated;
  return str(at(o, 'spec', 'storageClassName'));
}

export const persistentVolumePrinter: Printer = {
  columns: [
    nameColumn(),
    column('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity."),
    column('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    column('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    column('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    column('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageColumn(),
    column('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const claimRef = spec.claimRef === undefined || spec.claimRef === null ? undefined : asRecord(spec.claimRef);
    const claim = claimRef ? `${str(claimRef.namespace)}/${str(claimRef.name)}` : '';
    const phase = typeof o.metadata.deletionTimestamp === 'string' ? 'Terminating' : str(at(o, 'status', 'phase'));
    return {
      cells: [
        o.metadata.name ?? '',
        String(at(spec, 'capacity', 'storage') ?? '0'),
        accessModes(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy),
        phase,
        claim,
        storageClassOf(o),
        str(spec.volumeAttributesClassName) || '<unset>',
        str(at(o, 'status', 'reason')),
        since(o.metadata.creationTimestamp, now),
        str(spec.volumeMode) || '<unset>',
      ],
    };
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    column('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    column('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    column('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    column('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const phase = typeof o.metadata.deletionTimestamp === 'string' ? 'Terminating' : str(status.phase);
    const bound = str(spec.volumeName) !== '';
    return {
      cells: [
        o.metadata.name ?? '',
        phase,
        str(spec.volumeName),
        bound ? String(at(status, 'capacity', 'storage') ?? '0') : '',
        bound ? accessModes(status.accessModes) : '',
        storageClassOf(o),
        str(spec.volumeAttributesClassName) || '<unset>',
        since(o.metadata.creationTimestamp, now),
        str(spec.volumeMode) || '<unset>',
      ],
    };
  },
};

export const resourceQuotaPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ageColumn(),
  ],
  print(o, now) {
    const hard = asRecord(at(o, 'status', 'hard'));
    const used = asRecord(at(o, 'status', 'used'));
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort()) {
      const pieces = resource.split('.');
      const target = pieces.length > 1 && pieces[0] === 'limits' ? limits : requests;
      target.push(`${resource}: ${String(used[resource] ?? '0')}/${String(hard[resource])}`);
    }
    return { cells: [o.metadata.name ?? '', requests.join(', '), limits.join(', '), since(o.metadata.creationTimestamp, now)] };
  },
};
