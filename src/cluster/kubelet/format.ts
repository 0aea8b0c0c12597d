// Formats the kubelet's parts share: Go's duration and time formats (events and logs print
// them) and the catalog's log-line templates. Objects are read with ../json.ts.

/** RFC 3339 in seconds, as metav1.Time serialises. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with nanoseconds, as `kubectl logs --timestamps` prints. */
export function nanoTimestamp(ms: number, nanos = 0): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}${String(nanos).padStart(6, '0')}Z`;
}

/** time.Duration.String(): 313ms, 1.393s, 2m0s. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${trimZeros((Math.round(ms * 1000) / 1000).toFixed(3))}ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return `${trimZeros(totalSeconds.toFixed(3))}s`;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = trimZeros((totalSeconds % 60).toFixed(3));
  return hours > 0 ? `${hours}h${minutes}m${seconds}s` : `${minutes}m${seconds}s`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The time formats the catalog's log lines use. */
export function formatLogTime(format: string, date: Date): string {
  const y = date.getUTCFullYear();
  const mo = pad(date.getUTCMonth() + 1);
  const d = pad(date.getUTCDate());
  const h = pad(date.getUTCHours());
  const mi = pad(date.getUTCMinutes());
  const s = pad(date.getUTCSeconds());
  const ms = pad(date.getUTCMilliseconds(), 3);
  switch (format) {
    case 'nginx':
    case 'go':
      return `${y}/${mo}/${d} ${h}:${mi}:${s}`;
    case 'clf':
      return `${d}/${months[date.getUTCMonth()]}/${y}:${h}:${mi}:${s} +0000`;
    case 'apache':
      return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${d} ${h}:${mi}:${s}.${ms}000 ${y}`;
    case 'redis':
      return `${d} ${months[date.getUTCMonth()]} ${y} ${h}:${mi}:${s}.${ms}`;
    case 'postgres':
      return `${y}-${mo}-${d} ${h}:${mi}:${s}.${ms}`;
    case 'mysql':
      return `${y}-${mo}-${d} ${h}:${mi}:${s}`;
    case 'klog':
      return `${mo}${d} ${h}:${mi}:${s}.${ms}000`;
    default:
      return date.toISOString();
  }
}

/** Fills {{name}} and {{time:format}} in a catalog template. */
export function fillTemplate(template: string, values: Record<string, string>, now: Date): string {
  return template.replace(/\{\{(time:)?([\w-]+)\}\}/g, (_match, time: string | undefined, name: string) => (time ? formatLogTime(name, now) : (values[name] ?? '')));
}
