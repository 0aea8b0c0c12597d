// The node's network namespace: one a cluster, never the host's. A small agent process (node-agent.ts)
// is made in a network namespace of its own (unshare --net) and holds it for the cluster's life; the
// kubelet keeps a descriptor on it and configures it from outside with iproute2 and nftables:
// - a bridge per node, cbr<n> with the node's gateway (10.244.<n>.1/24) on it and every pod of the
//   node's veth on it, as kubenet and the bridge CNI plugin make one on each node; the namespace
//   routes between the nodes' bridges as the nodes' routes do. One bridge for every node would stop
//   at the kernel's 1,024 ports a bridge. Bridged packets pass netfilter (bridge-nf-call-iptables),
//   so kube-proxy's DNAT and NetworkPolicy's filter see pod-to-pod traffic on the same bridge too;
// - the Service range 10.96.0.0/12 routed locally, so the agent can listen on cluster IPs (the
//   cluster DNS, the API server's `kubernetes` Service) and unknown cluster IPs refuse at once;
// - each node's InternalIP on lo, for NodePorts.
// Nothing here has a route to the host: pods reach each other, Services and the agent, nothing else.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SERVICE_CIDR = '10.96.0.0/12';
export const CLUSTER_CIDR = '10.244.0.0/16';
const START_TIMEOUT_MS = 10_000;
const TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface NetworkTools {
  ip: string;
  nft: string;
  nsenter: string;
  setpriv: string;
  socat: string;
}

/** Runs a tool in a network namespace (a /proc/…/ns/net path), feeding it `input`; rejects with its stderr. */
export function inNetns(tools: NetworkTools, netns: string, argv: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.nsenter, [`--net=${netns}`, '--', ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: TOOL_PATH } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString('utf8')));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
    child.once('error', reject);
    // A tool that exits without reading its input (a failure, or no input wanted) is told by its exit status, not by EPIPE.
    child.stdin.on('error', () => {});
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${argv.join(' ')}: ${stderr.trim() || `exit ${code}`}`))));
    child.stdin.end(input ?? '');
  });
}

/** The gateway of a node's pod range: its first address (10.244.3.0/24 → 10.244.3.1). */
export function gatewayOf(podIP: string): string {
  const parts = podIP.split('.');
  return `${parts[0]}.${parts[1]}.${parts[2]}.1`;
}

/** The bridge of the node whose pod range holds `podIP` (10.244.3.0/24 → cbr3). */
export function bridgeOf(podIP: string): string {
  return `cbr${podIP.split('.')[2] ?? '0'}`;
}

/**
 * The bridge's own MAC address, set once (locally administered): a bridge without one takes the
 * lowest of its ports' addresses, which changes as pods' veths come and go, and every pod that
 * had the gateway's old address in its neighbour cache sends into nothing (no DNS, no Service)
 * until that entry goes stale, up to a minute. The bridge CNI plugin sets it for that reason.
 */
function bridgeAddress(): string {
  return ['02', ...[...randomBytes(5)].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

export class NodeNetwork {
  readonly tools: NetworkTools;
  /** /proc/<kubelet>/fd/N: the node namespace, as nsenter and ip take it. */
  readonly netns: string;
  readonly #agent: ChildProcess;
  readonly #fd: number;
  /** Each node's bridge, made once (again after a failure) by the first pod or sync that needs it. */
  readonly #bridges = new Map<string, Promise<void>>();
  readonly #nodeIPs = new Set<string>();
  #veths = 0;
  #stopped = false;

  private constructor(tools: NetworkTools, agent: ChildProcess, fd: number) {
    this.tools = tools;
    this.#agent = agent;
    this.#fd = fd;
    this.netns = `/proc/${process.pid}/fd/${fd}`;
  }

  /** Makes the node namespace with its agent, its bridge and the Service range; `listen` is what the agent serves there. */
  static async start(tools: NetworkTools, listen: AgentListen): Promise<NodeNetwork> {
    const script = fileURLToPath(new URL('./node-agent.ts', import.meta.url));
    // --pdeathsig: the namespace goes with the kubelet, however the kubelet ends.
    const agent = spawn(tools.setpriv, ['--pdeathsig', 'SIGKILL', 'unshare', '--net', '--', process.execPath, script], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: TOOL_PATH } });
    // An agent that died is reported by its exit; writes to it after that must not end the kubelet.
    agent.stdin?.on('error', () => {});
    const pid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => fail('the node network agent did not start in time'), START_TIMEOUT_MS);
      const fail = (message: string) => {
        clearTimeout(timer);
        agent.kill('SIGKILL');
        reject(new Error(`failed to create the node network: ${message}`));
      };
      agent.once('exit', () => fail('the node network agent exited'));
      agent.once('error', (error) => fail(error.message));
      agent.stdout?.once('data', (data: Buffer) => {
        clearTimeout(timer);
        if (data.toString('utf8').startsWith('up') && agent.pid) resolve(agent.pid);
        else fail(`the agent said ${data.toString('utf8').trim()}`);
      });
    });
    const fd = openSync(`/proc/${pid}/ns/net`, 'r');
    const network = new NodeNetwork(tools, agent, fd);
    try {
      // The agent speaks only after unshare: still, never configure a namespace that is the kubelet's own.
      if (readlinkSync(network.netns) === readlinkSync('/proc/self/ns/net')) throw new Error('the agent is in the host network namespace');
      await inNetns(
        tools,
        network.netns,
        ['sh', '-c', `echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables && exec ${tools.ip} -batch -`],
        [`link set lo up`, `route add local ${SERVICE_CIDR} dev lo`].join('\n') + '\n',
      );
      await network.#listen(listen);
    } catch (error) {
      network.stop();
      throw error;
    }
    return network;
  }

  #listen(listen: AgentListen): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#agent.stdout?.once('data', (data: Buffer) => {
        const text = data.toString('utf8');
        if (text.startsWith('listening')) resolve();
        else reject(new Error(`failed to create the node network: ${text.trim()}`));
      });
      this.send({ type: 'listen', ...listen });
    });
  }

  /** A message to the agent (one JSON line on its stdin). */
  send(message: AgentMessage): void {
    if (!this.#stopped) this.#agent.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  /** The bridge of a node's pod range (its gateway on it): made on first need, by sync or by the node's first pod. */
  bridge(gateway: string): Promise<void> {
    const known = this.#bridges.get(gateway);
    if (known) return known;
    const bridge = bridgeOf(gateway);
    const made = inNetns(this.tools, this.netns, [this.tools.ip, '-batch', '-'], [`link add ${bridge} address ${bridgeAddress()} type bridge`, `link set ${bridge} up`, `addr replace ${gateway}/24 dev ${bridge}`].join('\n') + '\n').then(() => undefined);
    this.#bridges.set(gateway, made);
    // A later pod tries afresh, once what the failed batch made is gone.
    made.catch(() =>
      inNetns(this.tools, this.netns, [this.tools.ip, 'link', 'del', bridge])
        .catch(() => undefined)
        .then(() => {
          if (this.#bridges.get(gateway) === made) this.#bridges.delete(gateway);
        }),
    );
    return made;
  }

  /**
   * The pod's network (CNI ADD): a veth pair from its node's bridge into the pod's namespace (held
   * by the pause process `podPid`), its address in the node's pod range, and a default route
   * through the node's gateway. Unprivileged ports start at 0 as in a container runtime's pods.
   * A failed attach leaves nothing behind (the plugin's DEL): the veth pair goes, with the pod's
   * end of it, so the next attempt starts clean instead of failing on an `eth0` that exists.
   */
  async attach(podPid: number, podNetns: string, podIP: string): Promise<void> {
    const veth = `veth${(++this.#veths).toString(16).padStart(8, '0')}`;
    const gateway = gatewayOf(podIP);
    await this.bridge(gateway);
    const node = [`link add ${veth} type veth peer name eth0 netns ${podPid}`, `link set ${veth} master ${bridgeOf(podIP)} up`, `link set ${veth} type bridge_slave hairpin on`];
    const pod = [`link set lo up`, `addr add ${podIP}/24 dev eth0`, `link set eth0 up`, `route add default via ${gateway}`];
    // One process chain for both sides (a pod's start waits on it); every word here is the kubelet's own.
    const script = [
      `${this.tools.ip} -batch - <<'NODE'`,
      ...node,
      'NODE',
      `exec ${this.tools.nsenter} --net=${podNetns} -- sh -c 'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec ${this.tools.ip} -batch -' <<'POD'`,
      ...pod,
      'POD',
    ].join('\n');
    try {
      await inNetns(this.tools, this.netns, ['sh', '-ec', script]);
    } catch (error) {
      await inNetns(this.tools, this.netns, [this.tools.ip, 'link', 'del', veth]).catch(() => undefined);
      throw error;
    }
  }

  /** Every node's InternalIP answers in the node namespace (NodePorts). */
  async nodeAddresses(ips: string[]): Promise<void> {
    const added = ips.filter((ip) => !this.#nodeIPs.has(ip));
    if (added.length === 0) return;
    for (const ip of added) this.#nodeIPs.add(ip);
    await inNetns(this.tools, this.netns, [this.tools.ip, '-batch', '-'], added.map((ip) => `addr replace ${ip}/32 dev lo`).join('\n') + '\n');
  }

  /** Replaces the cluster's nftables ruleset in the node namespace in one transaction. */
  async applyRuleset(ruleset: string): Promise<void> {
    await inNetns(this.tools, this.netns, [this.tools.nft, '-f', '-'], ruleset);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#agent.kill('SIGKILL');
    try {
      closeSync(this.#fd);
    } catch {
      // Already closed.
    }
  }
}

/** What the agent serves in the node namespace. */
export interface AgentListen {
  /** The cluster DNS address (UDP and TCP 53). */
  dns: string;
  /** TCP addresses carried to Unix sockets on the host (the API server's `kubernetes` Service). */
  forwards: { ip: string; port: number; unixSocket: string }[];
}

/** One DNS name's records, as the agent answers them. */
export interface DnsEntry {
  a?: string[];
  cname?: string;
  srv?: { port: number; target: string }[];
  /** Reverse lookups (`d.c.b.a.in-addr.arpa`): the name of a Service's cluster IP or of an endpoint. */
  ptr?: string;
}

export type AgentMessage = ({ type: 'listen' } & AgentListen) | { type: 'records'; records: Record<string, DnsEntry> };
