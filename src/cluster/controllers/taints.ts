// Taints and tolerations (k8s.io/api/core/v1 Toleration.ToleratesTaint).
import type { Json } from '../json.ts';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
  timeAdded?: string;
}

export function tolerates(toleration: Json, taint: Taint): boolean {
  const effect = typeof toleration.effect === 'string' ? toleration.effect : '';
  if (effect !== '' && effect !== taint.effect) return false;
  const key = typeof toleration.key === 'string' ? toleration.key : '';
  if (key !== '' && key !== taint.key) return false;
  const operator = typeof toleration.operator === 'string' && toleration.operator !== '' ? toleration.operator : 'Equal';
  if (operator === 'Exists') return true;
  if (operator !== 'Equal') return false;
  return (typeof toleration.value === 'string' ? toleration.value : '') === (taint.value ?? '');
}

export function toleratesAll(tolerations: Json[], taints: Taint[]): boolean {
  return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}
