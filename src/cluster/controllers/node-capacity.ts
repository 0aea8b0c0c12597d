// What a Node of `formicary cluster` advertises, derived from the machine it runs on. The nodes
// are simulated on one host, and their pods are pod sandboxes that use a few MiB of what they
// request (an idle workbench asks 256Mi and uses about 6 MiB), so a node advertises room for as
// many pods as its share of the host can really hold, each with a typical lab pod's requests: as
// a virtual-kubelet node advertises what its backend holds, not a machine of its own.
import type { NodeCapacity } from './nodes.ts';

/**
 * The memory one pod sandbox takes from the host: an idle workbench (bubblewrap, bash, its network
 * namespace, the cluster's and the portal's state for it) adds about 6 MiB (PSS, measured with 10
 * to 40 workbenches with open terminals), and the kernel's part (namespaces, page tables) comes on top.
 */
export const POD_SANDBOX_FOOTPRINT_BYTES = 8 * 1024 ** 2;

/** What a typical lab pod requests (the portal's workbench asks this much): each pod's room on a node. */
const POD_ROOM = { cpuMillis: 100, memoryBytes: 256 * 1024 ** 2 };

/** The pod IPs a node's /24 pod range hands out (10.244.n.2 … 10.244.n.254). */
const POD_ADDRESSES = 253;

/**
 * The kubelet's default hard eviction threshold (memory.available<100Mi), kept back from
 * allocatable as upstream's Node Allocatable does; nothing else is reserved.
 */
const EVICTION_THRESHOLD_BYTES = 100 * 1024 ** 2;

const EPHEMERAL_STORAGE = '100Gi';

export interface HostResources {
  /** The host's memory (os.totalmem()). */
  memoryBytes: number;
  /** The share of it all pods together may use (`--sandbox-share`, the pods' cgroup ceiling). */
  podShare: number;
}

export interface NodeResources {
  capacity: NodeCapacity;
  allocatable: NodeCapacity;
}

function mebibytes(bytes: number): string {
  return `${Math.floor(bytes / 1024 ** 2)}Mi`;
}

/**
 * Each of `nodes` Nodes: pods = its part of the host's pod memory ÷ a pod sandbox's footprint (at
 * most the addresses of its pod range), CPU and memory room for that many typical pods;
 * allocatable = capacity − the eviction threshold.
 */
export function nodeResourcesForHost(host: HostResources, nodes: number): NodeResources {
  const byMemory = Math.floor((host.memoryBytes * host.podShare) / POD_SANDBOX_FOOTPRINT_BYTES / Math.max(1, nodes));
  const pods = Math.max(1, Math.min(POD_ADDRESSES, byMemory));
  const memoryBytes = pods * POD_ROOM.memoryBytes;
  const capacity: NodeCapacity = { cpu: `${pods * POD_ROOM.cpuMillis}m`, memory: mebibytes(memoryBytes), pods: String(pods), 'ephemeral-storage': EPHEMERAL_STORAGE };
  return { capacity, allocatable: { ...capacity, memory: mebibytes(Math.max(0, memoryBytes - EVICTION_THRESHOLD_BYTES)) } };
}
