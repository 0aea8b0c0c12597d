// Checks about what happened and what was written: events, container logs, files in the workbench.
import type { KubeObject } from '../kube/index.ts';
import type { Check } from '../schema.ts';
import { fail, isTerminating, pass, quote, record, type CheckTarget, type Outcome } from './context.ts';

type CheckOf<K extends Check['kind']> = Extract<Check, { kind: K }>;

/** How much of a log a check reads: enough for any lab, bounded for the portal. */
const LOG_TAIL_LINES = 2000;
/** How much of a file a check reads. */
const FILE_BYTES = 1024 * 1024;

export async function event(check: CheckOf<'event'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve('events');
  const events = await target.client.list(resource, target.namespace, { fieldSelector: `reason=${check.reason}` });
  const about = [check.involvedKind, check.involvedName].filter(Boolean).join(' ');
  const expected = `a ${check.type ? `${check.type} ` : ''}event ${check.reason}${about ? ` about ${about}` : ''}${check.contains ? ` saying ${quote(check.contains)}` : ''}`;
  const matching = events.filter((e) => {
    const involved = record(e['involvedObject']);
    return (
      (!check.involvedKind || String(involved['kind']).toLowerCase() === check.involvedKind.toLowerCase()) &&
      (!check.involvedName || involved['name'] === check.involvedName) &&
      (!check.type || e['type'] === check.type) &&
      (!check.contains || String(e['message'] ?? '').includes(check.contains))
    );
  });
  const first = matching[0];
  if (first) {
    const involved = record(first['involvedObject']);
    const found = `${String(first['reason'])} on ${String(involved['kind'])} ${String(involved['name'])}: ${String(first['message'] ?? '')}`;
    return pass(expected, found, `The cluster recorded the event ${check.reason} for ${String(involved['kind'])} ${String(involved['name'])}.`);
  }
  const found = events.length ? `${events.length} ${check.reason} events, none ${about ? `about ${about}` : 'matching'}` : `no ${check.reason} events`;
  return fail(expected, found, `There is no event ${check.reason}${about ? ` about ${about}` : ''} in your namespace yet.`);
}

export async function logs(check: CheckOf<'logs'>, target: CheckTarget): Promise<Outcome> {
  const podsResource = await target.client.resolve('pods');
  let pods: KubeObject[];
  if (check.pod) {
    const pod = await target.client.get(podsResource, target.namespace, check.pod);
    pods = pod ? [pod] : [];
  } else {
    pods = (await target.client.list(podsResource, target.namespace, { labelSelector: check.selector })).filter((pod) => !isTerminating(pod));
  }
  const which = check.pod ? `pod ${check.pod}` : `pods with ${check.selector}`;
  const expected = `the log of ${which} contains ${quote(check.contains)}`;
  if (pods.length === 0) return fail(expected, `no ${check.pod ? 'such pod' : 'pods'}`, `There ${check.pod ? `is no pod named ${check.pod}` : `are no pods with ${check.selector}`} in your namespace yet.`);
  let lastLine = '';
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    let text: string;
    try {
      text = await target.client.logs(target.namespace, name, { ...(check.container ? { container: check.container } : {}), tailLines: LOG_TAIL_LINES });
    } catch {
      // A pod whose container has not started has no log yet; another pod may.
      continue;
    }
    if (text.includes(check.contains)) return pass(expected, `found in the log of pod ${name}`, `The log of pod ${name} contains ${quote(check.contains)}.`);
    const lines = text.trimEnd().split('\n');
    lastLine = lines[lines.length - 1] ?? '';
  }
  const found = lastLine ? `last line: ${lastLine}` : 'an empty log';
  return fail(expected, found, `The log of ${which} does not contain ${quote(check.contains)}${lastLine ? ` (its last line is ${quote(lastLine)})` : ' (the log is empty)'}.`);
}

/** Reads (never writes) a file in the workbench; `~/` is the learner's home. Exit 3: no such file. */
const READ_FILE = 'f="$1"; case "$f" in "~/"*) f="$HOME/${f#"~/"}";; esac; [ -e "$f" ] || exit 3; [ "$2" = read ] || exit 0; head -c "$3" -- "$f"';

export async function readWorkbenchFile(target: CheckTarget, path: string): Promise<string | null> {
  const result = await target.client.exec(target.namespace, target.workbench.pod, target.workbench.container, ['sh', '-c', READ_FILE, 'sh', path, 'read', String(FILE_BYTES)], { timeoutMs: 10_000 });
  if (result.exitCode === 3) return null;
  if (result.exitCode !== 0) throw new Error(`reading ${path} in the workbench failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`);
  return result.stdout;
}

export async function file(check: CheckOf<'file'>, target: CheckTarget): Promise<Outcome> {
  if (!check.exists) {
    const result = await target.client.exec(target.namespace, target.workbench.pod, target.workbench.container, ['sh', '-c', READ_FILE, 'sh', check.path, 'stat', '0'], { timeoutMs: 10_000 });
    const expected = `no file ${check.path}`;
    return result.exitCode === 3 ? pass(expected, expected, `${check.path} does not exist.`) : fail(expected, `${check.path} exists`, `${check.path} still exists; this step asks for it to be gone.`);
  }
  const content = await readWorkbenchFile(target, check.path);
  const expected = check.contains === undefined ? `${check.path} exists` : `${check.path} contains ${quote(check.contains)}`;
  if (content === null) return fail(expected, `no file ${check.path}`, `There is no file ${check.path} in your workbench yet.`);
  if (check.contains === undefined) return pass(expected, `${check.path} exists`, `${check.path} exists.`);
  const firstLine = content.split('\n')[0] ?? '';
  const found = content.trim() === '' ? `${check.path} is empty` : `${check.path} starts with ${quote(firstLine.slice(0, 80))}`;
  if (content.includes(check.contains)) return pass(expected, found, `${check.path} contains ${quote(check.contains)}.`);
  return fail(expected, found, `${check.path} does not contain ${quote(check.contains)}${content.trim() === '' ? ' (it is empty)' : ''}.`);
}
