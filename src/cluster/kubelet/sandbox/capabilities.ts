// Which Linux capabilities a container gets, and which of them a pod sandbox can really grant. A
// pod's processes hold capabilities only inside the pod's user namespace, where a single user is
// mapped: CHOWN, SETUID or DAC_OVERRIDE there reach nothing but the pod's own files and user,
// NET_BIND_SERVICE only the pod's network namespace. Those are granted. What would reach further
// (NET_ADMIN and NET_RAW on the pod network other pods share, SYS_ADMIN, SYS_TIME, modules…) is
// not, and the API server refuses a pod that asks for it instead of starting it without.

/**
 * The container runtime's default set (containerd's and CRI-O's), which a container running as
 * root has when its securityContext says nothing: all but NET_RAW, which the pod sandbox does not grant.
 */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** What `capabilities.add` may name: the runtime's defaults and SYS_PTRACE (only the pod's own processes are in reach). */
export const GRANTABLE_CAPABILITIES: ReadonlySet<string> = new Set([...RUNTIME_DEFAULT_CAPABILITIES, 'SYS_PTRACE']);

/**
 * The name the runtime uses for a name in the pod spec: the runtime upper-cases it and puts CAP_
 * before it, so `net_bind_service` is NET_BIND_SERVICE and `CAP_CHOWN` names no capability.
 */
export function capabilityName(name: string): string {
  return name.toUpperCase();
}

export interface CapabilityChanges {
  add?: unknown;
  drop?: unknown;
}

const names = (list: unknown): string[] => (Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string').map(capabilityName) : []);

/**
 * The container's capabilities as the runtime computes them from its securityContext: the
 * defaults, all of them for add ALL, none for drop ALL, then each added one, less each dropped
 * one. Names the sandbox cannot grant are left out (admission refuses pods that add them).
 */
export function containerCapabilities(changes: CapabilityChanges | undefined): string[] {
  const add = names(changes?.add);
  const drop = names(changes?.drop);
  let granted = new Set(RUNTIME_DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) granted = new Set(GRANTABLE_CAPABILITIES);
  if (drop.includes('ALL')) granted = new Set();
  for (const name of add) if (GRANTABLE_CAPABILITIES.has(name)) granted.add(name);
  for (const name of drop) granted.delete(name);
  return [...granted];
}

/** Why the pod sandbox cannot grant an added capability, or undefined when it can. */
export function capabilityRefusal(name: string): string | undefined {
  const upper = capabilityName(name);
  if (GRANTABLE_CAPABILITIES.has(upper)) return undefined;
  const grantable = [...GRANTABLE_CAPABILITIES].join(', ');
  if (upper === 'ALL') return `this cluster's pod sandbox cannot grant every capability; it can grant ${grantable}`;
  if (upper.startsWith('CAP_')) return `capability names are written without the CAP_ prefix (${upper.slice(4)})`;
  return `this cluster's pod sandbox cannot grant ${upper}; it can grant ${grantable}`;
}
