// The lab format (labs/<id>/lab.yaml) as one zod schema: what authors may write, what the checker
// engine, the provisioner, the self-test runner and the UI rely on. Strict objects everywhere, so
// a misspelt key is an error that names its line instead of a check that silently tests nothing.
import { z } from 'zod';
import { parseJsonPath } from '../jsonpath/index.ts';
import { isQuantity } from './checks/quantity.ts';

export const labId = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and dashes (a DNS label), such as deploy-and-expose');

const text = z.string().trim().min(1, 'must not be empty');
const command = z.string().trim().min(1, 'must be a shell command, not empty');
/** A resource as kubectl takes it: deploy, deployments, deployment.apps, svc, cm, … */
const resource = z.string().regex(/^[a-zA-Z][a-zA-Z0-9.-]*$/, 'must be a resource name as kubectl takes it, such as deployment, deploy, svc or deployments.apps');
const objectName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be the name of a Kubernetes object (lower-case letters, digits, dashes, dots)');
const quantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine(isQuantity, 'must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi');
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const jsonPath = z.string().superRefine((value, ctx) => {
  try {
    parseJsonPath(value);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `${(error as Error).message}; write it as kubectl -o jsonpath does, such as {.status.readyReplicas} or {.status.conditions[?(@.type=="Ready")].status}`,
    });
  }
});
const regex = z.string().superRefine((value, ctx) => {
  try {
    new RegExp(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `is not a valid regular expression: ${(error as Error).message}` });
  }
});

/** Fields every check may carry. */
const common = {
  /** Replaces the default failure message (the expected/found details stay). */
  message: text.optional(),
  /** Seconds to keep evaluating until the check passes (0: evaluate once). */
  timeout: z.number().min(0).max(600).optional(),
  /**
   * This check is already true before the step's solution: it guards against doing too much
   * ("and may not delete pods"). `formicary labs test` then does not demand that it fails first.
   */
  passesBefore: z.boolean().optional(),
};

const named = { resource, name: objectName };

export const fieldComparators = ['equals', 'notEquals', 'matches', 'contains', 'oneOf', 'greaterThan', 'lessThan', 'atLeast', 'atMost', 'empty'] as const;

const fieldCheck = z
  .strictObject({
    kind: z.literal('field'),
    ...common,
    ...named,
    path: jsonPath,
    equals: scalar.optional(),
    notEquals: scalar.optional(),
    matches: regex.optional(),
    contains: scalar.optional(),
    oneOf: z.array(scalar).min(1).optional(),
    greaterThan: z.union([z.number(), quantity]).optional(),
    lessThan: z.union([z.number(), quantity]).optional(),
    atLeast: z.union([z.number(), quantity]).optional(),
    atMost: z.union([z.number(), quantity]).optional(),
    empty: z.boolean().optional(),
  })
  .superRefine((check, ctx) => {
    const given = fieldComparators.filter((key) => check[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given.length === 0 ? `needs one comparison: ${fieldComparators.join(', ')}` : `has ${given.join(' and ')}; give exactly one comparison (write two field checks for a range)`,
      });
    }
  });

const countCheck = z
  .strictObject({
    kind: z.literal('count'),
    ...common,
    resource,
    selector: z.string().optional(),
    fieldSelector: z.string().optional(),
    equals: z.number().int().min(0).optional(),
    atLeast: z.number().int().min(0).optional(),
    atMost: z.number().int().min(0).optional(),
  })
  .superRefine((check, ctx) => {
    if (check.equals === undefined && check.atLeast === undefined && check.atMost === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs equals, atLeast or atMost' });
    }
  });

const envValue = z.union([
  scalar.transform(String),
  z.strictObject({ secretKeyRef: z.strictObject({ name: objectName, key: z.string().min(1) }) }),
  z.strictObject({ configMapKeyRef: z.strictObject({ name: objectName, key: z.string().min(1) }) }),
  z.strictObject({ fieldRef: z.strictObject({ fieldPath: z.string().min(1) }) }),
]);

const resourceAmounts = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

const containerCheck = z
  .strictObject({
    kind: z.literal('container'),
    ...common,
    ...named,
    /** Default: the only container, or the first. */
    container: z.string().optional(),
    image: z.string().min(1).optional(),
    env: z.record(z.string().min(1), envValue).optional(),
    envFrom: z.array(z.union([z.strictObject({ configMapRef: objectName }), z.strictObject({ secretRef: objectName })])).min(1).optional(),
    volumeMount: z
      .strictObject({
        mountPath: z.string().startsWith('/', 'must be an absolute path'),
        /** The volume's name in the pod spec. */
        volume: z.string().optional(),
        /** The volume comes from this ConfigMap. */
        configMap: objectName.optional(),
        /** The volume comes from this Secret. */
        secret: objectName.optional(),
        readOnly: z.boolean().optional(),
      })
      .optional(),
    probe: z
      .strictObject({
        type: z.enum(['liveness', 'readiness', 'startup']),
        handler: z.enum(['httpGet', 'tcpSocket', 'exec', 'grpc']).optional(),
        path: z.string().optional(),
        port: z.union([z.number().int(), z.string()]).optional(),
      })
      .optional(),
    resources: z.strictObject({ requests: resourceAmounts.optional(), limits: resourceAmounts.optional() }).optional(),
  })
  .superRefine((check, ctx) => {
    if (!check.image && !check.env && !check.envFrom && !check.volumeMount && !check.probe && !check.resources) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one of image, env, envFrom, volumeMount, probe, resources' });
    }
  });

const logsCheck = z
  .strictObject({
    kind: z.literal('logs'),
    ...common,
    pod: objectName.optional(),
    selector: z.string().optional(),
    container: z.string().optional(),
    contains: z.string().min(1),
  })
  .superRefine((check, ctx) => {
    if ((check.pod === undefined) === (check.selector === undefined)) ctx.addIssue({ code: 'custom', message: 'needs exactly one of pod or selector' });
  });

export const checkSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exists'), ...common, ...named }),
  z.strictObject({ kind: z.literal('absent'), ...common, ...named }),
  fieldCheck,
  countCheck,
  z.strictObject({
    kind: z.literal('condition'),
    ...common,
    ...named,
    type: z.string().min(1),
    status: z.enum(['True', 'False', 'Unknown']).default('True'),
    reason: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('rollout'), ...common, ...named }),
  /** Without count: every pod of the selector is Ready (and there is one). With count: at least that many are Ready. */
  z.strictObject({ kind: z.literal('podsReady'), ...common, selector: z.string().min(1), count: z.number().int().min(1).optional() }),
  containerCheck,
  z.strictObject({
    kind: z.literal('canI'),
    ...common,
    serviceAccount: objectName,
    verb: z.string().min(1),
    resource: z.string().min(1),
    subresource: z.string().optional(),
    name: z.string().optional(),
    /** Default: the sandbox namespace. */
    namespace: z.string().optional(),
    allowed: z.boolean().default(true),
  }),
  z.strictObject({
    kind: z.literal('event'),
    ...common,
    reason: z.string().min(1),
    involvedKind: z.string().optional(),
    involvedName: z.string().optional(),
    type: z.enum(['Normal', 'Warning']).optional(),
    /** Text the event's message must contain. */
    contains: z.string().optional(),
  }),
  logsCheck,
  z.strictObject({
    kind: z.literal('file'),
    ...common,
    path: z.string().regex(/^(\/|~\/)/, 'must be absolute (/…) or in the home directory (~/…)'),
    exists: z.boolean().default(true),
    contains: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('custom'), ...common, name: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be the name of a function exported from checks.ts') }),
]);

export const checkKinds = checkSchema.options.map((option) => option.shape.kind.value);

export const rbacRule = z.strictObject({
  apiGroups: z.array(z.string()).min(1),
  resources: z.array(z.string().min(1)).min(1),
  verbs: z.array(z.string().min(1)).min(1),
  resourceNames: z.array(z.string().min(1)).optional(),
  /** namespace (default): a Role in the sandbox; cluster: a ClusterRole bound to this learner's ServiceAccount. */
  scope: z.enum(['namespace', 'cluster']).default('namespace'),
});

export const quotaSchema = z.strictObject({
  cpu: quantity.default('2'),
  memory: quantity.default('2Gi'),
  pods: z.number().int().min(1).max(100).default(10),
  services: z.number().int().min(0).max(100).default(5),
});

const stepId = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and dashes, such as create-deployment');

export const stepSchema = z.strictObject({
  id: stepId,
  title: text,
  instructions: text,
  checks: z.array(checkSchema).min(1, 'needs at least one check'),
  hints: z.array(text).default([]),
  solution: z.array(command).min(1, 'needs at least one command (formicary labs test runs it, "Show solution" shows it)'),
});

export const labSchema = z
  .strictObject({
    title: text,
    summary: text,
    duration: z.number().int().min(1),
    timeLimit: z.number().int().min(1).max(24 * 60).optional(),
    /**
     * namespace: a namespace sandbox on the shared lab cluster. cluster: a cluster of the learner's
     * own (nodes, drain, CRDs, cluster-wide RBAC), where the learner is cluster-admin.
     */
    needs: z.enum(['namespace', 'cluster']).default('namespace'),
    rbac: z.array(rbacRule).default([]),
    quota: quotaSchema.default(quotaSchema.parse({})),
    /**
     * The Pod Security level the sandbox enforces (and warns and audits at). Privileged is not
     * offered: on a real lab cluster it hands the learner the node.
     */
    podSecurity: z.enum(['restricted', 'baseline']).default('restricted'),
    setup: z
      .strictObject({
        manifests: z.array(z.string().regex(/^setup\/[^/]+\.ya?ml$/, 'must be a .yaml file in this lab\'s setup/ folder, such as setup/app.yaml')).default([]),
        commands: z.array(command).default([]),
      })
      .default({ manifests: [], commands: [] }),
    steps: z.array(stepSchema).min(1, 'needs at least one step'),
    cleanup: z.array(command).default([]),
  })
  .superRefine((lab, ctx) => {
    const seen = new Map<string, number>();
    lab.steps.forEach((step, index) => {
      const first = seen.get(step.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['steps', index, 'id'], message: `"${step.id}" is already the id of step ${first}; step ids must be unique` });
      else seen.set(step.id, index);
    });
    if (lab.needs === 'cluster' && lab.rbac.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['rbac'], message: 'must be left out with needs: cluster: the learner is cluster-admin of their own cluster already' });
    }
    lab.rbac.forEach((rule, index) => {
      const core = rule.apiGroups.includes('') || rule.apiGroups.includes('*');
      const namespaces = rule.resources.includes('namespaces') || rule.resources.includes('*');
      const writes = rule.verbs.some((verb) => verb === 'update' || verb === 'patch' || verb === '*');
      if (core && namespaces && writes)
        ctx.addIssue({
          code: 'custom',
          path: ['rbac', index, 'resources'],
          message: 'must not let the learner update or patch namespaces: it could relabel its sandbox and lower its Pod Security level (use podSecurity instead)',
        });
    });
  });

export type LabDefinition = z.output<typeof labSchema>;
export type LabStepDefinition = z.output<typeof stepSchema>;
export type Check = z.output<typeof checkSchema>;
/** A check as written (defaults not yet applied): what evaluateCheck accepts from code. */
export type CheckInput = z.input<typeof checkSchema>;
export type CheckKind = Check['kind'];
export type RbacRule = z.output<typeof rbacRule>;
export type LabQuota = z.output<typeof quotaSchema>;
