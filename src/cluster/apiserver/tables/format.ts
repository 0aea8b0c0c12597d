// Cell formatting shared by the printers, each following the upstream helper kubectl users see
// the output of: duration.HumanDuration, labels.FormatLabels, metav1.FormatLabelSelector, ...

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration: about three significant figures. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const days = Math.trunc(hours / 24);
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24);
    const years = Math.trunc(days / 365);
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** translateTimestampSince: "<unknown>" for a missing or unparsable timestamp. */
export function since(timestamp: unknown, now: Date): string {
  const t = parseTime(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now.getTime() - t);
}

export function parseTime(timestamp: unknown): number | undefined {
  if (typeof timestamp !== 'string' || timestamp === '') return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? undefined : t;
}

/** labels.FormatLabels: sorted key=value pairs, "<none>" when empty. */
export function formatLabels(labels: unknown): string {
  const s = labelSetString(labels);
  return s === '' ? '<none>' : s;
}

function labelSetString(labels: unknown): string {
  const map = asRecord(labels);
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${String(map[k])}`)
    .join(',');
}

interface Requirement {
  key: string;
  text: string;
}

/** The String() of metav1.LabelSelectorAsSelector: requirements sorted by key; "" for an empty or absent selector. */
export function labelSelectorString(selector: unknown): string | undefined {
  if (selector === undefined || selector === null) return '';
  const sel = asRecord(selector);
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(asRecord(sel.matchLabels))) {
    requirements.push({ key, text: `${key}=${String(value)}` });
  }
  for (const expression of asArray(sel.matchExpressions)) {
    const e = asRecord(expression);
    const key = String(e.key ?? '');
    const values = asArray(e.values).map(String).sort();
    const list = values.length === 1 ? values[0] : values.join(',');
    switch (e.operator) {
      case 'In':
        requirements.push({ key, text: `${key} in (${list})` });
        break;
      case 'NotIn':
        requirements.push({ key, text: `${key} notin (${list})` });
        break;
      case 'Exists':
        requirements.push({ key, text: key });
        break;
      case 'DoesNotExist':
        requirements.push({ key, text: `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return requirements.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: "<none>" for an empty selector, "<error>" for an invalid one. */
export function formatLabelSelector(selector: unknown): string {
  const s = labelSelectorString(selector);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}

/** intstr.IntOrString.String() */
export function intOrString(value: unknown): string {
  return typeof value === 'number' ? String(Math.trunc(value)) : String(value ?? '');
}

/** Lay out all the containers on one line, as the wide CONTAINERS and IMAGES columns do. */
export function containerCells(containers: unknown): [names: string, images: string] {
  const list = asArray(containers).map(asRecord);
  return [list.map((c) => String(c.name ?? '')).join(','), list.map((c) => String(c.image ?? '')).join(',')];
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function int(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

/** Walks a dotted path through plain JSON; undefined when any step is missing. */
export function at(value: unknown, ...path: string[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
