// The Pod Security Standards as k8s.io/pod-security-admission v0.33 (Kubernetes 1.33) checks them:
// each check has an ID, a level, and versions (the policy version it first applies to); a
// failing check gives a reason and a detail in upstream's words. Restricted runs every baseline
// check except the ones a restricted check overrides.
import { isJson, type Json, objects } from '../../../json.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';

export interface CheckResult {
  reason: string;
  /** May be empty. */
  detail: string;
}

/** What a check sees: the pod's (or pod template's) metadata and spec. */
export interface PodShape {
  metadata: Json;
  spec: Json;
}

type CheckPod = (pod: PodShape) => CheckResult | undefined;

interface VersionedCheck {
  /** The minor version of 1.x the check applies from. */
  since: number;
  check: CheckPod;
  overrides?: string[];
}

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  versions: VersionedCheck[];
}

const objectAt = (value: unknown, key: string): Json | undefined => (isJson(value) && isJson(value[key]) ? value[key] : undefined);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** joinQuote: `"a", "b"`. */
function joinQuote(items: string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** sets.NewString(...).List(): unique and sorted byte-wise. */
function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** visitContainers: init containers, then containers, then ephemeral containers. */
function containers(spec: Json): Json[] {
  return [...objects(spec.initContainers), ...objects(spec.containers), ...objects(spec.ephemeralContainers)];
}

const containerContext = (container: Json): Json | undefined => objectAt(container, 'securityContext');
const podContext = (spec: Json): Json | undefined => objectAt(spec, 'securityContext');
const isWindows = (spec: Json): boolean => objectAt(spec, 'os')?.name === 'windows';

/** "container "a"" or "containers "a", "b"". */
function namedContainers(names: string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

function containerNames(spec: Json, bad: (container: Json) => boolean): string[] {
  return containers(spec)
    .filter(bad)
    .map((c) => text(c.name));
}

const hostNamespaces: CheckPod = ({ spec }) => {
  const shared = sortedSet([...(spec.hostNetwork === true ? ['hostNetwork'] : []), ...(spec.hostPID === true ? ['hostPID'] : []), ...(spec.hostIPC === true ? ['hostIPC'] : [])]);
  return shared.length ? { reason: 'host namespaces', detail: shared.join(', ') } : undefined;
};

const privileged: CheckPod = ({ spec }) => {
  const bad = containerNames(spec, (c) => containerContext(c)?.privileged === true);
  return bad.length ? { reason: 'privileged', detail: `${namedContainers(bad)} must not set securityContext.privileged=true` } : undefined;
};

const defaultCapabilities = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const added = (container: Json): string[] => (Array.isArray(objectAt(containerContext(container), 'capabilities')?.add) ? (objectAt(containerContext(container), 'capabilities')?.add as unknown[]).map(String) : []);
const dropped = (container: Json): string[] => (Array.isArray(objectAt(containerContext(container), 'capabilities')?.drop) ? (objectAt(containerContext(container), 'capabilities')?.drop as unknown[]).map(String) : []);

const capabilitiesBaseline: CheckPod = ({ spec }) => {
  const extra: string[] = [];
  const bad = containerNames(spec, (c) => {
    const outside = added(c).filter((cap) => !defaultCapabilities.has(cap));
    extra.push(...outside);
    return outside.length > 0;
  });
  if (!bad.length) return undefined;
  return { reason: 'non-default capabilities', detail: `${namedContainers(bad)} must not include ${joinQuote(sortedSet(extra))} in securityContext.capabilities.add` };
};

const hostPathVolumes: CheckPod = ({ spec }) => {
  const bad = objects(spec.volumes)
    .filter((v) => v.hostPath !== undefined && v.hostPath !== null)
    .map((v) => text(v.name));
  return bad.length ? { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)}` } : undefined;
};

const hostPorts: CheckPod = ({ spec }) => {
  const ports: string[] = [];
  const bad = containerNames(spec, (c) => {
    const used = objects(c.ports)
      .map((p) => p.hostPort)
      .filter((p) => typeof p === 'number' && p !== 0)
      .map(String);
    ports.push(...used);
    return used.length > 0;
  });
  if (!bad.length) return undefined;
  const unique = sortedSet(ports);
  return {
    reason: 'hostPort',
    detail: `${namedContainers(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}`,
  };
};

const appArmorAnnotationPrefix = 'container.apparmor.security.beta.kubernetes.io/';

const appArmorProfile: CheckPod = ({ metadata, spec }) => {
  const allowedType = (type: unknown) => type === 'RuntimeDefault' || type === 'Localhost';
  const setters: string[] = [];
  const values: string[] = [];
  const podProfile = objectAt(podContext(spec), 'appArmorProfile');
  if (podProfile && !allowedType(podProfile.type)) {
    setters.push('pod');
    values.push(text(podProfile.type));
  }
  const bad = containerNames(spec, (c) => {
    const profile = objectAt(containerContext(c), 'appArmorProfile');
    if (!profile || allowedType(profile.type)) return false;
    values.push(text(profile.type));
    return true;
  });
  if (bad.length) setters.push(namedContainers(bad));
  const annotations = Object.entries(objectAt(metadata, 'annotations') ?? {})
    .filter(([key, value]) => key.startsWith(appArmorAnnotationPrefix) && !(text(value) === '' || text(value) === 'runtime/default' || text(value).startsWith('localhost/')))
    .map(([key, value]) => `${key}=${JSON.stringify(text(value))}`)
    .sort();
  const listed = [...sortedSet(values), ...annotations];
  if (annotations.length) setters.push(pluralize('annotation', 'annotations', annotations.length));
  if (!setters.length) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', listed.length),
    detail: `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(listed)}`,
  };
};

function seLinuxOptions(allowedTypes: Set<string>): CheckPod {
  return ({ spec }) => {
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (options: Json): boolean => {
      let ok = true;
      if (!allowedTypes.has(text(options.type))) {
        ok = false;
        badTypes.push(text(options.type));
      }
      if (text(options.user) !== '') {
        ok = false;
        setUser = true;
      }
      if (text(options.role) !== '') {
        ok = false;
        setRole = true;
      }
      return ok;
    };
    const setters: string[] = [];
    const podOptions = objectAt(podContext(spec), 'seLinuxOptions');
    if (podOptions && !valid(podOptions)) setters.push('pod');
    const bad = containerNames(spec, (c) => {
      const options = objectAt(containerContext(c), 'seLinuxOptions');
      return options !== undefined && !valid(options);
    });
    if (bad.length) setters.push(namedContainers(bad));
    if (!setters.length) return undefined;
    const data: string[] = [];
    const types = sortedSet(badTypes);
    if (types.length) data.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return { reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
  };
}

const procMount: CheckPod = ({ spec }) => {
  const types: string[] = [];
  const bad = containerNames(spec, (c) => {
    const value = containerContext(c)?.procMount;
    if (value === undefined || value === null || value === 'Default') return false;
    types.push(text(value));
    return true;
  });
  return bad.length ? { reason: 'procMount', detail: `${namedContainers(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}` } : undefined;
};

const validSeccomp = (type: unknown) => type === 'Localhost' || type === 'RuntimeDefault';
const seccompPodAnnotation = 'seccomp.security.alpha.kubernetes.io/pod';
const seccompContainerAnnotationPrefix = 'container.seccomp.security.alpha.kubernetes.io/';

/** Policy versions before 1.19 looked at the seccomp alpha annotations. */
const seccompBaselineAnnotations: CheckPod = ({ metadata, spec }) => {
  const annotations = objectAt(metadata, 'annotations') ?? {};
  const validValue = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
  const bad: string[] = [];
  const keys = [seccompPodAnnotation, ...containers(spec).map((c) => seccompContainerAnnotationPrefix + text(c.name))];
  for (const key of keys) {
    const value = annotations[key];
    if (typeof value === 'string' && !validValue(value)) bad.push(`${key}=${JSON.stringify(value)}`);
  }
  const listed = sortedSet(bad);
  return listed.length ? { reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', listed.length)} ${listed.join(', ')}` } : undefined;
};

/** The seccomp check of both levels: baseline forbids bad explicit values, restricted also asks every container for one. */
function seccomp(required: boolean): CheckPod {
  return ({ spec }) => {
    if (required && isWindows(spec)) return undefined;
    const setters: string[] = [];
    const values: string[] = [];
    let podSet = false;
    const podProfile = objectAt(podContext(spec), 'seccompProfile');
    if (podProfile) {
      if (!validSeccomp(podProfile.type)) {
        setters.push('pod');
        values.push(text(podProfile.type));
      } else podSet = true;
    }
    const implicit: string[] = [];
    const explicit = containerNames(spec, (c) => {
      const profile = objectAt(containerContext(c), 'seccompProfile');
      if (!profile) {
        if (!podSet) implicit.push(text(c.name));
        return false;
      }
      if (validSeccomp(profile.type)) return false;
      values.push(text(profile.type));
      return true;
    });
    if (explicit.length) setters.push(namedContainers(explicit));
    if (setters.length) return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}` };
    if (required && implicit.length) return { reason: 'seccompProfile', detail: `pod or ${namedContainers(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
    return undefined;
  };
}

function sysctls(allowed: Set<string>): CheckPod {
  return ({ spec }) => {
    const bad = objects(podContext(spec)?.sysctls)
      .map((s) => text(s.name))
      .filter((name) => !allowed.has(name));
    return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
  };
}

const sysctls1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
const sysctls1_27 = [...sysctls1_0, 'net.ipv4.ip_local_reserved_ports'];
const sysctls1_29 = [...sysctls1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const sysctls1_32 = [...sysctls1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

const windowsHostProcess: CheckPod = ({ spec }) => {
  const hostProcess = (context: Json | undefined) => objectAt(context, 'windowsOptions')?.hostProcess === true;
  const setters: string[] = [];
  const bad = containerNames(spec, (c) => hostProcess(containerContext(c)));
  if (hostProcess(podContext(spec))) setters.push('pod');
  if (bad.length) setters.push(namedContainers(bad));
  return setters.length ? { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` } : undefined;
};

function allowPrivilegeEscalation(exemptWindows: boolean): CheckPod {
  return ({ spec }) => {
    if (exemptWindows && isWindows(spec)) return undefined;
    const bad = containerNames(spec, (c) => containerContext(c)?.allowPrivilegeEscalation !== false);
    return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${namedContainers(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
  };
}

function capabilitiesRestricted(exemptWindows: boolean): CheckPod {
  return ({ spec }) => {
    if (exemptWindows && isWindows(spec)) return undefined;
    const missingDrop: string[] = [];
    const adding: string[] = [];
    const forbidden: string[] = [];
    for (const c of containers(spec)) {
      const name = text(c.name);
      if (!objectAt(containerContext(c), 'capabilities')) {
        missingDrop.push(name);
        continue;
      }
      if (!dropped(c).includes('ALL')) missingDrop.push(name);
      const extra = added(c).filter((cap) => cap !== 'NET_BIND_SERVICE');
      forbidden.push(...extra);
      if (extra.length) adding.push(name);
    }
    const details: string[] = [];
    if (missingDrop.length) details.push(`${namedContainers(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
    if (adding.length) details.push(`${namedContainers(adding)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`);
    return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
  };
}

/** The volume sources restricted allows; any other is named by its field. */
const allowedVolumeSources = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret']);
const restrictedVolumeSources = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

const restrictedVolumes: CheckPod = ({ spec }) => {
  const bad: string[] = [];
  const types: string[] = [];
  for (const volume of objects(spec.volumes)) {
    const present = (field: string) => volume[field] !== undefined && volume[field] !== null;
    if ([...allowedVolumeSources].some(present)) continue;
    bad.push(text(volume.name));
    types.push(restrictedVolumeSources.find(present) ?? 'unknown');
  }
  if (!bad.length) return undefined;
  const unique = sortedSet(types);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', unique.length)} ${joinQuote(unique)}`,
  };
};

const runAsNonRoot: CheckPod = ({ spec }) => {
  const setters: string[] = [];
  let podNonRoot = false;
  const podValue = podContext(spec)?.runAsNonRoot;
  if (typeof podValue === 'boolean') {
    if (!podValue) setters.push('pod');
    else podNonRoot = true;
  }
  const implicit: string[] = [];
  const explicit = containerNames(spec, (c) => {
    const value = containerContext(c)?.runAsNonRoot;
    if (typeof value === 'boolean') return !value;
    if (!podNonRoot) implicit.push(text(c.name));
    return false;
  });
  if (explicit.length) setters.push(namedContainers(explicit));
  if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${namedContainers(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
};

const runAsUser: CheckPod = ({ spec }) => {
  const setters: string[] = [];
  if (podContext(spec)?.runAsUser === 0) setters.push('pod');
  const bad = containerNames(spec, (c) => containerContext(c)?.runAsUser === 0);
  if (bad.length) setters.push(namedContainers(bad));
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
};

const checks: Check[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [{ since: 0, check: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ since: 0, check: capabilitiesBaseline }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ since: 0, check: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ since: 0, check: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ since: 0, check: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ since: 0, check: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ since: 0, check: procMount }] },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [
      { since: 0, check: seLinuxOptions(new Set(['', 'container_t', 'container_init_t', 'container_kvm_t'])) },
      { since: 31, check: seLinuxOptions(new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'])) },
    ],
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    versions: [
      { since: 0, check: seccompBaselineAnnotations },
      { since: 19, check: seccomp(false) },
    ],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: [
      { since: 0, check: sysctls(new Set(sysctls1_0)) },
      { since: 27, check: sysctls(new Set(sysctls1_27)) },
      { since: 29, check: sysctls(new Set(sysctls1_29)) },
      { since: 32, check: sysctls(new Set(sysctls1_32)) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ since: 0, check: windowsHostProcess }] },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    versions: [
      { since: 8, check: allowPrivilegeEscalation(false) },
      { since: 25, check: allowPrivilegeEscalation(true) },
    ],
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [
      { since: 22, check: capabilitiesRestricted(false), overrides: ['capabilities_baseline'] },
      { since: 25, check: capabilitiesRestricted(true), overrides: ['capabilities_baseline'] },
    ],
  },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ since: 0, check: restrictedVolumes, overrides: ['hostPathVolumes'] }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ since: 0, check: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ since: 23, check: runAsUser }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [
      { since: 19, check: seccomp(true), overrides: ['seccompProfile_baseline'] },
      { since: 25, check: seccomp(true), overrides: ['seccompProfile_baseline'] },
    ],
  },
];

/** The newest policy version any check names: later versions (and "latest") evaluate as this one. */
const newestPolicyMinor = Math.max(...checks.flatMap((c) => c.versions.map((v) => v.since)));

function versionAt(check: Check, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const version of check.versions) if (version.since <= minor) found = version;
  return found;
}

/**
 * The failing checks of a level at a policy version (1.minor; undefined = latest), baseline
 * checks first, each group in ID order, as upstream orders them for stable messages.
 */
export function evaluatePod(level: Level, minor: number | undefined, pod: PodShape): CheckResult[] {
  if (level === 'privileged') return [];
  const at = Math.min(minor ?? newestPolicyMinor, newestPolicyMinor);
  const active = checks.flatMap((check) => {
    if (level === 'baseline' && check.level !== 'baseline') return [];
    const version = versionAt(check, at);
    return version ? [{ id: check.id, level: check.level, version }] : [];
  });
  const overridden = new Set(active.flatMap((c) => (c.level === 'restricted' ? (c.version.overrides ?? []) : [])));
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const ordered = [...active.filter((c) => c.level === 'baseline' && !overridden.has(c.id)).sort(byId), ...active.filter((c) => c.level === 'restricted').sort(byId)];
  return ordered.flatMap((c) => {
    const result = c.version.check(pod);
    return result ? [result] : [];
  });
}

/** AggregateCheckResult.ForbiddenDetail: `reason (detail), reason, …`. */
export function forbiddenDetail(results: CheckResult[]): string {
  return results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
}

/** AggregateCheckResult.ForbiddenReason: the reasons alone. */
export function forbiddenReason(results: CheckResult[]): string {
  return results.map((r) => r.reason).join(', ');
}
