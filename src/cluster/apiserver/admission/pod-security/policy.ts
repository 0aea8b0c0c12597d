// A namespace's Pod Security policy from its labels, as k8s.io/pod-security-admission/api reads
// them: pod-security.kubernetes.io/{enforce,audit,warn} name a level, the -version labels
// "latest" or "v1.x". Unset modes take the defaults (privileged:latest, as kube-apiserver runs
// without a configuration file); a bad enforce label fails closed (restricted:latest), bad audit
// and warn labels fail open; warn follows an explicitly stricter enforce.
import { fieldError, type FieldError } from '../../../registry/index.ts';
import type { Level } from './checks.ts';

const labelPrefix = 'pod-security.kubernetes.io/';

type Mode = 'enforce' | 'audit' | 'warn';

export interface LevelVersion {
  level: Level;
  /** The minor of v1.x; undefined is "latest". */
  minor: number | undefined;
}

type Policy = Record<Mode, LevelVersion>;

const levels: Level[] = ['privileged', 'baseline', 'restricted'];
const latest = (level: Level): LevelVersion => ({ level, minor: undefined });

const defaultPolicy: Policy = { enforce: latest('privileged'), audit: latest('privileged'), warn: latest('privileged') };

/** LevelVersion.String(): `restricted:latest`, `baseline:v1.29`. */
export function describe(lv: LevelVersion): string {
  return `${lv.level}:${lv.minor === undefined ? 'latest' : `v1.${lv.minor}`}`;
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.minor === b.minor;
}

/** CompareLevels: -1 when a is less strict than b, 1 when stricter. */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(levels.indexOf(a) - levels.indexOf(b));
}

export function isFullyPrivileged(policy: Policy): boolean {
  return policy.enforce.level === 'privileged' && policy.audit.level === 'privileged' && policy.warn.level === 'privileged';
}

const versionPattern = /^v1\.([0-9]|[1-9][0-9]*)$/;

function labelError(label: string, value: string, detail: string): FieldError {
  return fieldError.invalid(`metadata.labels[${label}]`, value, detail);
}

/** PolicyToEvaluate: the policy a namespace's labels ask for, and the label errors (the policy is usable either way). */
export function policyFromLabels(labels: Record<string, string> | undefined): { policy: Policy; errors: FieldError[] } {
  const policy: Policy = { enforce: { ...defaultPolicy.enforce }, audit: { ...defaultPolicy.audit }, warn: { ...defaultPolicy.warn } };
  const errors: FieldError[] = [];
  if (!labels || Object.keys(labels).length === 0) return { policy, errors };
  const level = (mode: Mode, failTo: Level): boolean => {
    const label = `${labelPrefix}${mode}`;
    const value = labels[label];
    if (value === undefined) return false;
    if ((levels as string[]).includes(value)) {
      policy[mode].level = value as Level;
      return true;
    }
    policy[mode].level = failTo;
    errors.push(labelError(label, value, `must be one of ${levels.join(', ')}`));
    return false;
  };
  const version = (mode: Mode): boolean => {
    const label = `${labelPrefix}${mode}-version`;
    const value = labels[label];
    if (value === undefined) return false;
    const match = versionPattern.exec(value);
    if (value === 'latest' || !match) {
      policy[mode].minor = undefined;
      if (value !== 'latest') errors.push(labelError(label, value, 'must be "latest" or "v1.x"'));
    } else policy[mode].minor = Number(match[1]);
    return true;
  };
  const hasEnforceLevel = level('enforce', 'restricted');
  version('enforce');
  level('audit', 'privileged');
  version('audit');
  const hasWarnLevel = labels[`${labelPrefix}warn`] !== undefined;
  level('warn', 'privileged');
  const hasWarnVersion = version('warn');
  if (!hasWarnLevel && hasEnforceLevel && compareLevels(policy.enforce.level, policy.warn.level) > 0) {
    policy.warn.level = policy.enforce.level;
    if (!hasWarnVersion) policy.warn.minor = policy.enforce.minor;
  }
  return { policy, errors };
}
