// A generated corpus for search timing: N lessons in N/10 paths, each lesson eight sections
// of Kubernetes prose drawn from a fixed vocabulary with a seeded generator, so every run
// indexes the same text.
import { outlineMdx, type ContentTree, type LessonSource, type PathSource } from '../../src/content-model/index.ts';

const TOPICS = [
  'Pods', 'Deployments', 'ReplicaSets', 'Services', 'Ingress', 'ConfigMaps', 'Secrets', 'Namespaces', 'Volumes', 'StatefulSets',
  'DaemonSets', 'Jobs', 'CronJobs', 'probes', 'resource requests', 'limits', 'labels', 'selectors', 'annotations', 'RBAC',
  'ServiceAccounts', 'NetworkPolicies', 'rolling updates', 'rollbacks', 'autoscaling', 'taints', 'tolerations', 'affinity', 'kubelet', 'etcd',
];
// Prose vocabulary, most common first: words are drawn with Zipf's law (rank^-1), as in real
// text, so a few words are everywhere and most are rare.
const WORDS = (
  'the a to of and in is it that for you on with as this when be are each its by not your or from one can an at if ' +
  'pod cluster node container kubectl object api server controller state field name image namespace label spec status ' +
  'deployment replica service port selector volume secret config manifest yaml command output event log restart probe ' +
  'scheduler kubelet etcd apply create delete describe get watch patch edit scale rollout expose run exec logs ' +
  'desired observed reconcile loop change update version revision history template strategy surge unavailable ready ' +
  'endpoint address traffic route network policy ingress egress dns lookup record cache proxy balance session sticky ' +
  'storage claim class provision mount path read write access mode persistent ephemeral directory file disk capacity ' +
  'memory cpu request limit quota range default priority preempt evict pressure threshold usage metric monitor alert ' +
  'role binding account token permission verb resource group scope audit admission webhook mutate validate reject ' +
  'taint toleration affinity spread zone region topology schedule bind filter score weight preference require ' +
  'job cron completion parallel backoff retry failure success terminate grace signal hook lifecycle init sidecar ' +
  'environment variable key value reference inject rotate encrypt base64 opaque immutable projected downward ' +
  'replace recreate pause resume undo record annotate owner garbage collect finalizer orphan cascade foreground ' +
  'header request response verb watch stream chunk continue limit page resourceversion conflict retry backoff ' +
  'operator custom definition schema version conversion storage served deprecated migrate upgrade drain cordon'
).split(' ');

function zipf(count: number): number[] {
  const weights = Array.from({ length: count }, (_, rank) => 1 / (rank + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let cumulative = 0;
  return weights.map((weight) => (cumulative += weight / total));
}
const WORD_CDF = zipf(WORDS.length);

function word(next: () => number): string {
  const roll = next();
  const index = WORD_CDF.findIndex((bound) => roll <= bound);
  return WORDS[index < 0 ? WORDS.length - 1 : index]!;
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)]!;
}

function sentence(next: () => number): string {
  const words = Array.from({ length: 12 + Math.floor(next() * 10) }, () => word(next));
  words.splice(Math.floor(next() * words.length), 0, pick(TOPICS, next));
  return `${words.join(' ')}.`;
}

function lessonSource(title: string, next: () => number): string {
  const sections = Array.from({ length: 8 }, (_, index) => {
    const topic = pick(TOPICS, next);
    const body = Array.from({ length: 6 }, () => sentence(next)).join(' ');
    return `## ${topic} in practice ${index + 1}\n\n${body}\n\n\`\`\`bash\nkubectl get ${topic.toLowerCase().replace(/\s+/g, '-')} -o wide\n\`\`\`\n`;
  });
  return `---\ntitle: ${title}\n---\n\n${sentence(next)} ${sentence(next)}\n\n${sections.join('\n')}`;
}

export function generatedContentTree(lessonCount: number, seed = 42): ContentTree {
  const next = random(seed);
  const paths: PathSource[] = [];
  for (let lessonNumber = 0; lessonNumber < lessonCount; lessonNumber += 1) {
    const pathIndex = Math.floor(lessonNumber / 10);
    let path = paths[pathIndex];
    if (!path) {
      const id = `generated-path-${pathIndex + 1}`;
      path = {
        id,
        file: `content/paths/${id}/index.mdx`,
        frontmatter: { data: {}, lineOf: () => 1, syntaxErrors: [] },
        data: {
          title: `Operating ${pick(TOPICS, next)} ${pathIndex + 1}`,
          summary: sentence(next),
          level: 'intermediate',
          duration: 120,
          audience: 'Platform engineers',
          outcomes: [sentence(next)],
          prerequisites: [],
        },
        outline: outlineMdx(''),
        lessons: [],
      };
      paths.push(path);
    }
    const order = (lessonNumber % 10) + 1;
    const title = `${pick(TOPICS, next)} and ${pick(TOPICS, next)} (${lessonNumber + 1})`;
    const lesson: LessonSource = {
      pathId: path.id,
      id: `lesson-${lessonNumber + 1}`,
      order,
      file: `content/paths/${path.id}/${String(order).padStart(2, '0')}-lesson-${lessonNumber + 1}.mdx`,
      frontmatter: { data: {}, lineOf: () => 1, syntaxErrors: [] },
      data: { title, summary: sentence(next), duration: 20, objectives: [sentence(next)] },
      outline: outlineMdx(lessonSource(title, next)),
    };
    path.lessons.push(lesson);
  }
  return { paths, problems: [] };
}

/** Queries a learner might type: single terms, pairs, and unfinished words. */
export function sampleQueries(count: number, seed = 7): string[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, index) => {
    const topic = pick(TOPICS, next).toLowerCase();
    if (index % 3 === 0) return topic;
    if (index % 3 === 1) return `${word(next)} ${topic}`;
    return topic.slice(0, Math.max(3, Math.ceil(topic.length / 2)));
  });
}
