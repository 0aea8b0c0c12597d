// Making and removing one sandbox: the Namespace, access and budget side by side, the workbench
// (watched until Ready), then the lab's setup. A sandbox that fails half-way is deleted again, and
// the error says which phase failed and why.
import { randomBytes } from 'node:crypto';
import { errorMessage, statusCode, type ExecResult, type KubeClient, type KubeObject, type Lab } from '../../labs/index.ts';
import { WatchTimeoutError } from '../../labs/kube/index.ts';
import {
  ANNOTATION_CREATED,
  ANNOTATION_LAB_TITLE,
  ANNOTATION_LAST_ACTIVITY,
  ANNOTATION_LEARNER_ID,
  LABEL_EXPIRES,
  LABEL_LAB,
  LABEL_LAB_DIGEST,
  LABEL_LEARNER,
  LABEL_READY,
  WARM,
  WORKBENCH_CONTAINER,
  WORKBENCH_POD,
  learnerLabel,
  seconds,
} from './labels.ts';
import { accessAndBudget, clusterAccessName, namespaceManifest, podSecurityLabels, workbenchPod } from './objects.ts';

export type StartPhase = 'claiming-warm-sandbox' | 'creating-namespace' | 'starting-cluster' | 'granting-access' | 'starting-workbench' | 'running-setup' | 'ready';

export interface StartProgress {
  phase: StartPhase;
  /** For the learner: "Starting your terminal". */
  message: string;
  /** Since "Start lab". */
  elapsedMs: number;
}

export const PHASE_MESSAGES: Record<StartPhase, string> = {
  'claiming-warm-sandbox': 'Taking a prepared sandbox',
  'creating-namespace': 'Creating your namespace',
  'starting-cluster': 'Starting a cluster of your own',
  'granting-access': 'Setting up access and a resource budget',
  'starting-workbench': 'Starting your terminal',
  'running-setup': 'Preparing the lab',
  ready: 'Ready',
};

/** The phases of one start, told to the requester as they come; `phase` is the one under way (where a failure happened). */
export class StartPhases {
  phase: StartPhase = 'creating-namespace';
  readonly #started = Date.now();
  readonly #onProgress: ((progress: StartProgress) => void) | undefined;

  constructor(onProgress: ((progress: StartProgress) => void) | undefined) {
    this.#onProgress = onProgress;
  }

  report(next: StartPhase): void {
    this.phase = next;
    this.#onProgress?.({ phase: next, message: PHASE_MESSAGES[next], elapsedMs: Date.now() - this.#started });
  }
}

export class SandboxError extends Error {
  readonly phase: StartPhase;
  readonly namespace: string | null;
  constructor(phase: StartPhase, namespace: string | null, message: string) {
    super(message);
    this.name = 'SandboxError';
    this.phase = phase;
    this.namespace = namespace;
  }
}

export interface ProvisionContext {
  client: KubeClient;
  now: () => Date;
  workbenchReadyTimeoutMs: number;
  setupCommandTimeoutMs: number;
  workbenchImage: string;
}

export type Owner = { learnerId: string } | 'warm';

export interface ProvisionRequest {
  lab: Lab;
  digest: string;
  owner: Owner;
  /** When the sandbox is to be deleted once ready. */
  expiresAt: Date;
  onProgress?: (progress: StartProgress) => void;
}

function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(5), (byte) => alphabet[byte % alphabet.length]).join('');
}

export function sandboxName(owner: Owner): string {
  return `lab-${owner === 'warm' ? WARM : learnerLabel(owner.learnerId).slice(0, 6)}-${randomSuffix()}`;
}

/** How long a sandbox may take to start before the reaper may take it for abandoned. */
export const PROVISIONING_GRACE_MS = 15 * 60_000;

export function ownerLabels(owner: Owner): Record<string, string> {
  return { [LABEL_LEARNER]: owner === 'warm' ? WARM : learnerLabel(owner.learnerId) };
}

export function ownerAnnotations(owner: Owner, now: Date): Record<string, string> {
  return owner === 'warm' ? {} : { [ANNOTATION_LEARNER_ID]: owner.learnerId, [ANNOTATION_LAST_ACTIVITY]: seconds(now) };
}

function podSummary(pod: KubeObject | null): string {
  if (!pod) return 'the pod does not exist';
  const status = (pod.status ?? {}) as { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; containerStatuses?: Array<{ state?: Record<string, { reason?: string; message?: string }> }> };
  const waiting = status.containerStatuses?.[0]?.state?.['waiting'];
  if (waiting?.reason) return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return `not scheduled: ${scheduled.message ?? scheduled.reason ?? 'unknown reason'}`;
  return status.phase ?? 'Pending';
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status ?? {}) as { conditions?: Array<{ type: string; status: string }> }).conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Creates an object, retrying briefly while what it depends on settles (a ServiceAccount, a fresh quota). */
export async function createSettling(client: KubeClient, object: KubeObject, namespace: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let attempt = 0; ; attempt++) {
    try {
      await client.create(object, namespace);
      return;
    } catch (error) {
      const code = statusCode(error);
      const message = errorMessage(error);
      const settling = (code === 403 && /status unknown for quota|serviceaccount/i.test(message)) || (code === 404 && /serviceaccount/i.test(message)) || code === 429;
      if (!settling || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)));
    }
  }
}

export async function waitForWorkbench(ctx: ProvisionContext, namespace: string): Promise<void> {
  const pods = await ctx.client.resolve('pods');
  try {
    await ctx.client.waitFor(
      pods,
      namespace,
      { fieldSelector: `metadata.name=${WORKBENCH_POD}`, timeoutMs: ctx.workbenchReadyTimeoutMs },
      (event) => event.type !== 'DELETED' && isReady(event.object),
    );
  } catch (error) {
    const pod = await ctx.client.get(pods, namespace, WORKBENCH_POD).catch(() => null);
    const why = error instanceof WatchTimeoutError ? podSummary(pod) : errorMessage(error);
    throw new SandboxError('starting-workbench', namespace, `The workbench pod in ${namespace} did not become Ready within ${Math.round(ctx.workbenchReadyTimeoutMs / 1000)} s (${why}).`);
  }
}

/** A command in the workbench as the learner runs it: a bash login shell with kubectl bound to the sandbox. */
export function runInWorkbench(ctx: ProvisionContext, namespace: string, command: string, timeoutMs = ctx.setupCommandTimeoutMs): Promise<ExecResult> {
  return ctx.client.exec(namespace, WORKBENCH_POD, WORKBENCH_CONTAINER, ['bash', '-lc', command], { timeoutMs });
}

function output(result: ExecResult): string {
  const text = `${result.stdout}${result.stderr}`.trim();
  return text.length > 2000 ? `…${text.slice(-2000)}` : text;
}

export async function runSetup(ctx: ProvisionContext, lab: Lab, namespace: string): Promise<void> {
  for (const manifest of lab.manifests) {
    const object = manifest.object as unknown as KubeObject;
    try {
      await createSettling(ctx.client, object, namespace);
    } catch (error) {
      throw new SandboxError('running-setup', namespace, `Setup of lab ${lab.id} failed: ${manifest.file}:${manifest.line}: ${object.kind} ${object.metadata.name}: ${errorMessage(error)}`);
    }
  }
  for (const command of lab.setup.commands) {
    let result: ExecResult;
    try {
      result = await runInWorkbench(ctx, namespace, command);
    } catch (error) {
      throw new SandboxError('running-setup', namespace, `Setup of lab ${lab.id} failed: the command \`${command}\` could not run: ${errorMessage(error)}`);
    }
    if (result.exitCode !== 0) {
      throw new SandboxError('running-setup', namespace, `Setup of lab ${lab.id} failed: the command \`${command}\` exited with code ${result.exitCode}${output(result) ? `: ${output(result)}` : ''}`);
    }
  }
}

/** Deletes a sandbox: its cluster-wide access first (so it stops at once), then the namespace. */
export async function deleteSandbox(client: KubeClient, namespace: string): Promise<void> {
  const ignoreMissing = (error: unknown) => {
    if (statusCode(error) !== 404) throw error;
  };
  const name = encodeURIComponent(clusterAccessName(namespace));
  await Promise.all([
    client.api.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`).catch(ignoreMissing),
    client.api.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`).catch(ignoreMissing),
  ]);
  await deleteNamespace(client, namespace);
}

/** Deletes the sandbox's namespace (and with it everything in it); its cluster-scoped access is the caller's. */
export async function deleteNamespace(client: KubeClient, namespace: string): Promise<void> {
  await client.api
    .request('DELETE', `/api/v1/namespaces/${encodeURIComponent(namespace)}`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } })
    .catch((error: unknown) => {
      if (statusCode(error) !== 404) throw error;
    });
}

/** Makes a sandbox from nothing; returns its namespace once the workbench is Ready and setup ran. */
export async function provisionSandbox(ctx: ProvisionContext, request: ProvisionRequest): Promise<string> {
  const { lab, owner } = request;
  const phases = new StartPhases(request.onProgress);
  const report = (next: StartPhase) => phases.report(next);
  const namespace = sandboxName(owner);
  const now = ctx.now();
  report('creating-namespace');
  try {
    await ctx.client.create(
      namespaceManifest(
        namespace,
        {
          [LABEL_LAB]: lab.id,
          [LABEL_LAB_DIGEST]: request.digest,
          [LABEL_EXPIRES]: seconds(new Date(now.getTime() + PROVISIONING_GRACE_MS)),
          [LABEL_READY]: 'false',
          ...ownerLabels(owner),
          ...podSecurityLabels(lab.podSecurity),
        },
        { [ANNOTATION_LAB_TITLE]: lab.title, [ANNOTATION_CREATED]: seconds(now), ...ownerAnnotations(owner, now) },
      ),
      undefined,
    );
  } catch (error) {
    throw new SandboxError('creating-namespace', null, `Could not create a sandbox namespace for lab ${lab.id}: ${errorMessage(error)}`);
  }
  try {
    report('granting-access');
    await Promise.all(accessAndBudget(namespace, lab).map((object) => ctx.client.create(object, object.metadata.namespace)));
    report('starting-workbench');
    await createSettling(ctx.client, workbenchPod(namespace, ctx.workbenchImage), namespace);
    await waitForWorkbench(ctx, namespace);
    report('running-setup');
    await runSetup(ctx, lab, namespace);
    await ctx.client.api.request('PATCH', `/api/v1/namespaces/${namespace}`, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [LABEL_READY]: 'true', [LABEL_EXPIRES]: seconds(request.expiresAt) } } },
    });
    report('ready');
    return namespace;
  } catch (error) {
    await deleteSandbox(ctx.client, namespace).catch(() => undefined);
    if (error instanceof SandboxError) throw error;
    throw new SandboxError(phases.phase, namespace, `Starting a sandbox for lab ${lab.id} failed while ${PHASE_MESSAGES[phases.phase].toLowerCase()}: ${errorMessage(error)}`);
  }
}

