// Custom checks of the network-policy-tiers lab. They read what really happens: every tier's pod
// has a `probe` container that keeps calling the other tiers and logs "to X: answered" or
// "to X: no answer (curl exit N)"; the newest line for each pair is the current state.
import type { CustomCheck, CustomCheckContext, CustomCheckResult } from '../../src/labs/index.ts';

type Pair = `${string}->${string}`;

interface Observation {
  answered: boolean;
  /** curl's exit code when there was no answer: 28 timed out (dropped), 6 name not resolved. */
  exit?: number;
}

const sources: Record<string, string[]> = {
  web: ['api', 'ledger'],
  api: ['ledger', 'web'],
  ledger: ['api'],
  batch: ['web', 'api', 'ledger'],
};

/** The newest observation of every pair, from the probes' logs; missing pairs have no line yet. */
async function observe(ctx: CustomCheckContext): Promise<Map<Pair, Observation>> {
  const seen = new Map<Pair, Observation>();
  for (const [source, targets] of Object.entries(sources)) {
    const pods = (await ctx.list('pods', { selector: `app=${source}` })).filter((pod) => {
      const status = (pod['status'] ?? {}) as Record<string, unknown>;
      const metadata = (pod['metadata'] ?? {}) as Record<string, unknown>;
      return status['phase'] === 'Running' && !metadata['deletionTimestamp'];
    });
    const pod = pods[0];
    if (!pod) continue;
    const name = String(((pod['metadata'] ?? {}) as Record<string, unknown>)['name']);
    const lines = (await ctx.logs(name, 'probe').catch(() => '')).trim().split('\n').reverse();
    for (const target of targets) {
      const line = lines.find((l) => l.startsWith(`to ${target}: `));
      if (!line) continue;
      const exit = /curl exit (\d+)/.exec(line)?.[1];
      seen.set(`${source}->${target}`, { answered: line.endsWith(': answered'), ...(exit ? { exit: Number(exit) } : {}) });
    }
  }
  return seen;
}

const describe = (pair: Pair) => pair.replace('->', ' → ');

/** Compares what the probes see with what the step wants; `explain` gives the reason a pair is wrong (the sentence's end, after "X gets an answer"). */
async function matrix(ctx: CustomCheckContext, wanted: Record<Pair, boolean>, explain: (pair: Pair, wanted: boolean, seen: Observation) => string, success: string): Promise<CustomCheckResult> {
  const seen = await observe(ctx);
  const expected = Object.entries(wanted).map(([pair, yes]) => `${describe(pair as Pair)} ${yes ? 'answered' : 'no answer'}`).join(', ');
  const found = Object.keys(wanted).map((pair) => {
    const o = seen.get(pair as Pair);
    return `${describe(pair as Pair)} ${o ? (o.answered ? 'answered' : `no answer (curl exit ${o.exit ?? '?'})`) : 'not probed yet'}`;
  }).join(', ');
  const missing = Object.keys(wanted).filter((pair) => !seen.has(pair as Pair));
  if (missing.length) return { passed: false, expected, found, message: `No probe has reported ${missing.map((p) => describe(p as Pair)).join(', ')} yet; are all four Deployments (web, api, ledger, batch) running? (kubectl get pods)` };
  const wrong = (Object.entries(wanted) as Array<[Pair, boolean]>).filter(([pair, yes]) => seen.get(pair)?.answered !== yes);
  // Pairs wrong for the same reason share one sentence: "ledger → api and batch → api get an answer; …".
  const reasons = new Map<string, { pairs: Pair[]; wanted: boolean }>();
  for (const [pair, yes] of wrong) {
    const reason = explain(pair, yes, seen.get(pair) as Observation);
    const group = reasons.get(reason) ?? { pairs: [], wanted: yes };
    group.pairs.push(pair);
    reasons.set(reason, group);
  }
  if (wrong.length) {
    const sentences = [...reasons].map(([reason, group]) => {
      const subject = group.pairs.map(describe).join(' and ');
      const verb = group.pairs.length > 1 ? 'get' : 'gets';
      return `${subject} ${group.wanted ? `${verb} no answer` : `${verb} an answer`}${reason}`;
    });
    return { passed: false, expected, found, message: sentences.join(' ') };
  }
  return { passed: true, expected, found, message: success };
}

const allPairs = Object.entries(sources).flatMap(([source, targets]) => targets.map((target) => `${source}->${target}` as Pair));

/** Step 1: nothing in the namespace answers anyone. */
export const everythingDenied: CustomCheck = async (ctx) => {
  const policies = await ctx.list('networkpolicies');
  const allowAll = policies.filter((policy) => {
    const spec = (policy['spec'] ?? {}) as Record<string, unknown>;
    const selector = (spec['podSelector'] ?? {}) as Record<string, unknown>;
    const selectsAll = !Object.keys(selector).some((key) => Array.isArray(selector[key]) ? (selector[key] as unknown[]).length : Object.keys((selector[key] ?? {}) as object).length);
    return selectsAll && Array.isArray(spec['ingress']) && (spec['ingress'] as unknown[]).length > 0;
  }).map((policy) => String(((policy['metadata'] ?? {}) as Record<string, unknown>)['name']));
  return matrix(
    ctx,
    Object.fromEntries(allPairs.map((pair) => [pair, false])) as Record<Pair, boolean>,
    (pair) =>
      allowAll.length
        ? `, still: the policy ${allowAll.join(', ')} admits traffic to every pod, and policies add up — a default deny cannot take away what another policy allows. Remove it; your default deny keeps the other namespaces out too.`
        : `, still; a policy selecting every pod (podSelector: {}) with policyTypes [Ingress] and no ingress rules isolates them all.`,
    'Nothing in the namespace answers anyone: every connection is now dropped until a policy allows it.',
  );
};

const tiersWanted: Record<Pair, boolean> = {
  'web->api': true,
  'api->ledger': true,
  'batch->web': true,
  'api->web': true,
  'web->ledger': false,
  'ledger->api': false,
  'batch->api': false,
  'batch->ledger': false,
};

function explainTiers(pair: Pair, wanted: boolean): string {
  if (wanted) {
    if (pair === 'batch->web' || pair === 'api->web') return `: web is the storefront and must accept connections from anywhere on port 8080.`;
    return `, and the shop needs it: the policy for ${pair.split('->')[1]} must allow pods labelled app=${pair.split('->')[0]} on port 8080 (check its podSelector, from and ports).`;
  }
  return `; only ${pair.endsWith('ledger') ? 'api may reach ledger' : 'web may reach api'}. A policy allows more than it should (a from with no peers, or a podSelector: {} peer, matches every pod).`;
}

/** Step 2: web is public, api answers web only, ledger answers api only. */
export const tiersAllowed: CustomCheck = async (ctx) =>
  matrix(ctx, tiersWanted, explainTiers, 'web answers everyone, api answers only web, ledger answers only api: a compromised batch pod reaches nothing but the storefront.');

type Fields = Record<string, unknown>;
const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);

/**
 * Whether some egress policy that selects api pods lets them reach port 53 over UDP. A lookup the
 * policies drop is, to the probe, just a timeout (curl gives up before the resolver does, exit
 * 28), so the spec tells why api reaches nothing.
 */
async function apiMayResolve(ctx: CustomCheckContext): Promise<boolean> {
  const policies = (await ctx.list('networkpolicies')).map((policy) => record(policy['spec']));
  const selectsApi = (spec: Fields) => {
    const selector = record(spec['podSelector']);
    const labels = record(selector['matchLabels']);
    const expressions = list(selector['matchExpressions']);
    if (Object.keys(labels).some((key) => !(key === 'app' && labels[key] === 'api'))) return false;
    return expressions.every((e) => e['key'] === 'app' && e['operator'] === 'In' && Array.isArray(e['values']) && e['values'].includes('api'));
  };
  const egressPolicies = policies.filter((spec) => selectsApi(spec) && (Array.isArray(spec['policyTypes']) ? spec['policyTypes'].includes('Egress') : Array.isArray(spec['egress'])));
  if (!egressPolicies.length) return true;
  return egressPolicies.some((spec) =>
    list(spec['egress']).some((rule) => {
      const ports = list(rule['ports']);
      return !ports.length || ports.some((port) => (port['protocol'] ?? 'TCP') === 'UDP' && (port['port'] === undefined || port['port'] === 53 || port['port'] === 'dns' || (typeof port['endPort'] === 'number' && Number(port['port']) <= 53 && port['endPort'] >= 53)));
    }),
  );
}

/** Step 3: api's own connections are limited to ledger (and DNS). */
export const apiEgress: CustomCheck = async (ctx) => {
  const resolves = await apiMayResolve(ctx);
  return matrix(
    ctx,
    { ...tiersWanted, 'api->web': false },
    (pair, wanted, seen) => {
      if (pair === 'api->ledger' && (seen.exit === 6 || !resolves)) return ' because api can no longer resolve the name ledger (its lookups are dropped too): its egress must also allow DNS, UDP and TCP port 53 to the pods labelled k8s-app=kube-dns in kube-system.';
      if (pair === 'api->web') return ', still: api needs no connection to web, so its egress should allow only ledger (and DNS).';
      return explainTiers(pair, wanted);
    },
    'api may open connections to ledger and the cluster DNS, nothing else: a compromised api cannot scan the namespace or call out.',
  );
};
