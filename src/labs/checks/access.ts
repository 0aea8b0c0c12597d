// canI: what a ServiceAccount may do, asked of the API server's authorizer with a
// SubjectAccessReview (`kubectl auth can-i --as=system:serviceaccount:…`). Nothing is changed.
import { UnknownResourceError } from '../errors.ts';
import type { Check } from '../schema.ts';
import { fail, pass, type CheckTarget, type Outcome } from './context.ts';

type CanICheck = Extract<Check, { kind: 'canI' }>;

/** The group and plural an access review needs; "*" and names the server does not serve pass through. */
async function resourceAttributes(check: CanICheck, target: CheckTarget): Promise<{ group: string; resource: string }> {
  const [name = '', explicitGroup] = check.resource.includes('.') && !check.resource.includes('/') ? [check.resource.slice(0, check.resource.indexOf('.')), check.resource.slice(check.resource.indexOf('.') + 1)] : [check.resource, undefined];
  if (name === '*') return { group: explicitGroup ?? '*', resource: '*' };
  try {
    const resolved = await target.client.resolve(check.resource);
    return { group: resolved.group, resource: resolved.resource };
  } catch (error) {
    if (error instanceof UnknownResourceError) return { group: explicitGroup ?? '', resource: name };
    throw error;
  }
}

export async function canI(check: CanICheck, target: CheckTarget): Promise<Outcome> {
  const namespace = check.namespace ?? target.namespace;
  const attributes = await resourceAttributes(check, target);
  const { allowed } = await target.client.serviceAccountCan(
    { namespace: target.namespace, name: check.serviceAccount },
    { verb: check.verb, ...attributes, ...(check.subresource ? { subresource: check.subresource } : {}), ...(check.name ? { name: check.name } : {}), namespace },
  );
  const thing = `${check.resource}${check.subresource ? `/${check.subresource}` : ''}${check.name ? ` named ${check.name}` : ''}`;
  const place = check.namespace && check.namespace !== target.namespace ? ` in namespace ${check.namespace}` : ' in your namespace';
  const action = `${check.verb} ${thing}${place}`;
  const who = `ServiceAccount ${check.serviceAccount}`;
  const expected = `${who} ${check.allowed ? 'may' : 'may not'} ${action}`;
  const found = `${who} ${allowed ? 'may' : 'may not'} ${action}`;
  if (allowed === check.allowed) return pass(expected, found, `${who} ${allowed ? 'can' : 'cannot'} ${action}.`);
  return check.allowed
    ? fail(expected, found, `${who} cannot ${action} yet; this step asks that it can.`)
    : fail(expected, found, `${who} can ${action}; this step asks that it cannot — grant only what it needs.`);
}
