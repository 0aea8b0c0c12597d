// A pod's /etc/resolv.conf as the kubelet's DNS configurer (pkg/kubelet/network/dns) composes it
// and containerd writes it: the pod's dnsPolicy picks the base (the cluster DNS with the cluster's
// search domains, the node's own resolv.conf, or nothing), its dnsConfig is merged in, and the
// result is cut to what a C library reads, with a DNSConfigForming warning when something is cut.
import type { KubeObject } from '../types.ts';
import { asArray, obj, objects, specOf, str } from '../json.ts';
import { CLUSTER_DNS_IP } from './network/index.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * The node's own resolv.conf (the kubelet's --resolv-conf). The embedded cluster's nodes are
 * kind's nodes (172.18.0.x on a bridge whose gateway is 172.18.0.1), so theirs is a kind node's:
 * the gateway as nameserver, Docker's ndots:0, and none of the host machine's search domains or
 * servers. Nothing answers at the gateway: the node network has no way out, so a pod that asks the
 * node's resolver (dnsPolicy Default, a hostNetwork pod) gets no name resolved, as CoreDNS's
 * `forward . /etc/resolv.conf` gets nothing beyond the cluster's zone.
 */
export const NODE_RESOLV_CONF = 'nameserver 172.18.0.1\noptions ndots:0\n';

/** Limits of the C library's resolver, as validation.MaxDNS* (the expanded ones, GA since 1.28). */
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_LIST_CHARS = 2048;
const MAX_SEARCH_PATH_LENGTH = 253;

export interface PodDnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** What the kubelet reads of a resolv.conf: nameservers accumulate, the last search and options lines win. */
export function parseResolvConf(text: string): PodDnsConfig {
  const config: PodDnsConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const [keyword, ...fields] = trimmed.split(/\s+/);
    if (keyword === 'nameserver' && fields[0]) config.servers.push(fields[0]);
    // The same domain with and without its trailing dot counts once.
    if (keyword === 'search') config.searches = fields.map((field) => field.replace(/\.$/, ''));
    if (keyword === 'options') config.options = fields;
  }
  return config;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** ClusterFirst for a pod on the pod network and ClusterFirstWithHostNet; Default and hostNetwork's ClusterFirst read the node's. */
function policyOf(pod: KubeObject): 'cluster' | 'node' | 'none' {
  const spec = specOf(pod);
  const policy = str(spec['dnsPolicy']) ?? 'ClusterFirst';
  if (policy === 'None') return 'none';
  if (policy === 'ClusterFirstWithHostNet') return 'cluster';
  if (policy === 'ClusterFirst' && spec['hostNetwork'] !== true) return 'cluster';
  return policy === 'Default' || policy === 'ClusterFirst' ? 'node' : 'cluster';
}

/** dnsConfig's options override the base's of the same name; the rest keep their order. */
function mergeOptions(base: string[], extra: unknown): string[] {
  const merged = new Map<string, string>();
  for (const option of base) {
    const colon = option.indexOf(':');
    merged.set(colon === -1 ? option : option.slice(0, colon), colon === -1 ? '' : option.slice(colon + 1));
  }
  for (const option of objects(extra)) merged.set(str(option['name']) ?? '', str(option['value']) ?? '');
  return [...merged].map(([name, value]) => (value === '' ? name : `${name}:${value}`));
}

export interface ComposedDns {
  config: PodDnsConfig;
  /** DNSConfigForming warnings, word for word the kubelet's. */
  warnings: string[];
}

/** The kubelet's GetPodDNS for this pod, then its limits. */
export function podDnsConfig(pod: KubeObject, nodeResolvConf = NODE_RESOLV_CONF): ComposedDns {
  const node = parseResolvConf(nodeResolvConf);
  const policy = policyOf(pod);
  let config: PodDnsConfig;
  if (policy === 'none') config = { servers: [], searches: [], options: [] };
  else if (policy === 'node') config = node;
  else {
    const namespace = pod.metadata.namespace ?? 'default';
    const clusterSearch = [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
    config = { servers: [CLUSTER_DNS_IP], searches: unique([...clusterSearch, ...node.searches]), options: ['ndots:5'] };
  }
  const dnsConfig = specOf(pod)['dnsConfig'];
  if (dnsConfig !== undefined && dnsConfig !== null) {
    const extra = obj(dnsConfig);
    const strings = (value: unknown) => asArray(value).filter((item): item is string => typeof item === 'string');
    config = {
      servers: unique([...config.servers, ...strings(extra['nameservers'])]),
      searches: unique([...config.searches, ...strings(extra['searches'])]),
      options: mergeOptions(config.options, extra['options']),
    };
  }
  return fitLimits(config);
}

function fitLimits(config: PodDnsConfig): ComposedDns {
  const warnings: string[] = [];
  let servers = config.servers;
  if (servers.length > MAX_NAMESERVERS) {
    servers = servers.slice(0, MAX_NAMESERVERS);
    warnings.push(`Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${servers.join(' ')}`);
  }
  let exceeded = config.searches.length > MAX_SEARCH_PATHS;
  // Some C libraries abort on a search path past 255 characters: those are left out.
  let searches = config.searches.slice(0, MAX_SEARCH_PATHS).filter((search) => {
    if (search.length <= MAX_SEARCH_PATH_LENGTH) return true;
    exceeded = true;
    return false;
  });
  // Whole domains are cut from the end until the line fits.
  while (searches.join(' ').length > MAX_SEARCH_LIST_CHARS) {
    searches = searches.slice(0, -1);
    exceeded = true;
  }
  if (exceeded) warnings.push(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`);
  return { config: { servers, searches, options: config.options }, warnings };
}

/** The file as containerd writes it from the kubelet's DNS config: search, nameservers, options. */
export function resolvConfText(config: PodDnsConfig): string {
  let text = '';
  if (config.searches.length > 0) text += `search ${config.searches.join(' ')}\n`;
  if (config.servers.length > 0) text += `nameserver ${config.servers.join('\nnameserver ')}\n`;
  if (config.options.length > 0) text += `options ${config.options.join(' ')}\n`;
  return text;
}
