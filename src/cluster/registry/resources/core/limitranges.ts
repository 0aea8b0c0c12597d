// LimitRanges: container defaults derived from max/default/min (SetDefaults_LimitRangeItem) and
// min ≤ defaultRequest ≤ default ≤ max.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, objects } from '../../../json.ts';
import { ensureObject } from '../../fields.ts';
import { type Quantity, tryParseQuantity } from '../../quantity.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';

const limitTypes = ['Container', 'PersistentVolumeClaim', 'Pod'];

function quantities(list: unknown, path: string, errs: FieldError[]): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const [name, raw] of Object.entries(asObject(list) ?? {})) {
    const q = tryParseQuantity(raw);
    if (!q) errs.push(fieldError.invalid(`${path}[${name}]`, raw, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    else out.set(name, q);
  }
  return out;
}

function validateLimitRange(limitRange: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const items = asArray(asObject(limitRange.spec)?.limits);
  items.forEach((raw, i) => {
    const item = asObject(raw) ?? {};
    const path = `spec.limits[${i}]`;
    if (!limitTypes.includes(String(item.type))) errs.push(fieldError.notSupported(`${path}.type`, item.type ?? '', limitTypes));
    const max = quantities(item.max, `${path}.max`, errs);
    const min = quantities(item.min, `${path}.min`, errs);
    const def = quantities(item.default, `${path}.default`, errs);
    const defReq = quantities(item.defaultRequest, `${path}.defaultRequest`, errs);
    if (item.type !== 'Container') {
      if (def.size) errs.push(fieldError.forbidden(`${path}.default`, 'may not be specified when `type` is not \'Container\''));
      if (defReq.size) errs.push(fieldError.forbidden(`${path}.defaultRequest`, 'may not be specified when `type` is not \'Container\''));
    }
    const names = new Set([...max.keys(), ...min.keys(), ...def.keys(), ...defReq.keys()]);
    for (const name of names) {
      const mx = max.get(name);
      const mn = min.get(name);
      const d = def.get(name);
      const dr = defReq.get(name);
      if (mn && mx && mn.cmp(mx) > 0) errs.push(fieldError.invalid(`${path}.min[${name}]`, mn.toString(), `min value ${mn.toString()} is greater than max value ${mx.toString()}`));
      if (dr && mn && mn.cmp(dr) > 0) errs.push(fieldError.invalid(`${path}.defaultRequest[${name}]`, dr.toString(), `min value ${mn.toString()} is greater than default request value ${dr.toString()}`));
      if (dr && mx && dr.cmp(mx) > 0) errs.push(fieldError.invalid(`${path}.defaultRequest[${name}]`, dr.toString(), `default request value ${dr.toString()} is greater than max value ${mx.toString()}`));
      if (d && mn && mn.cmp(d) > 0) errs.push(fieldError.invalid(`${path}.default[${name}]`, d.toString(), `min value ${mn.toString()} is greater than default value ${d.toString()}`));
      if (d && mx && d.cmp(mx) > 0) errs.push(fieldError.invalid(`${path}.default[${name}]`, d.toString(), `default value ${d.toString()} is greater than max value ${mx.toString()}`));
      if (dr && d && dr.cmp(d) > 0) errs.push(fieldError.invalid(`${path}.defaultRequest[${name}]`, dr.toString(), `default request value ${dr.toString()} is greater than default limit value ${d.toString()}`));
    }
  });
  return errs;
}

export const limitranges: ResourceStrategy = {
  definition: defineResource({ group: '', version: 'v1', resource: 'limitranges', kind: 'LimitRange', namespaced: true, shortNames: ['limits'] }),
  allowCreateOnUpdate: true,
  defaults(limitRange) {
    for (const item of objects(asObject(limitRange.spec)?.limits)) {
      if (item.type !== 'Container') continue;
      const def = ensureObject(item, 'default');
      const defReq = ensureObject(item, 'defaultRequest');
      for (const [name, value] of Object.entries(asObject(item.max) ?? {})) if (def[name] === undefined) def[name] = value;
      for (const [name, value] of Object.entries(def)) if (defReq[name] === undefined) defReq[name] = value;
      for (const [name, value] of Object.entries(asObject(item.min) ?? {})) if (defReq[name] === undefined) defReq[name] = value;
      if (Object.keys(def).length === 0) delete item.default;
      if (Object.keys(defReq).length === 0) delete item.defaultRequest;
    }
  },
  validate: validateLimitRange,
  validateUpdate: (limitRange) => validateLimitRange(limitRange),
};
