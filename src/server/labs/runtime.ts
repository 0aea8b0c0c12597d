// Labs in the running portal: the lab catalog (labs/), sandboxes on the lab cluster, checks, the
// record of sessions, and the terminal bridge with its WebSocket route. The sandboxes are made
// once the lab cluster is ready (the embedded one writes its kubeconfig when it first serves).

import { evaluateChecks, LabCatalog as LabFiles } from '../../labs/index.ts';
import { KubeClient } from '../../labs/kube/index.ts';
import type { LabCluster } from '../cluster/index.ts';
import type { PortalRoutes } from '../http/index.ts';
import type { Logger } from '../log.ts';
import { Sandboxes, type DedicatedClusterHost, type Sandbox, type StartPhase as SandboxPhase } from '../sandboxes/index.ts';
import { execShells, KEPT_SESSION_COMMAND, OBSERVE_SESSION_COMMAND, PLAIN_SHELL_COMMAND, TerminalBridge, terminalSockets, type TerminalClient, type TerminalSockets, type TerminalView } from '../terminals/index.ts';
import type { LabRecords } from '../tracking/index.ts';
import type { StartPhase } from '../../contracts/index.ts';
import type { LabCatalog, LabChecks, LabSandboxes, SandboxHandle } from './ports.ts';
import { createLabSessions, type LabSessions } from './service.ts';

export interface LabsOptions {
  /** The project root: labs are read from ROOT/labs. */
  root: string;
  cluster: LabCluster;
  /** Where lab sessions are recorded, with their learning events (src/server/tracking). */
  records: LabRecords;
  log: Logger;
  /** Warm sandboxes kept ready per lab (SANDBOX_WARM_POOL); default 0. */
  warmPool?: number | Record<string, number>;
  /** Sandboxes at once across every replica (SANDBOX_LIMIT); default no limit. */
  sandboxLimit?: number | null;
  now?: () => Date;
  /** How often expired lab sessions are ended; default 15 s. */
  expirySweepMs?: number;
  /** Labs one learner may have running at once; default 2. */
  sessionsPerLearner?: number;
  /** Where labs with `needs: cluster` get a cluster of the learner's own (LAB_CLUSTER=embedded); without it they are refused. */
  dedicatedClusters?: DedicatedClusterHost;
  /** LAB_CLUSTER=kubernetes: labs with `needs: cluster` get a pod of this image running `formicary cluster`, at most `limit` at once. */
  podClusters?: { image: string; limit: number };
}

export interface Labs {
  sessions: LabSessions;
  bridge: TerminalBridge;
  /** Learners' terminals for an instructor's read-only view, from this replica or kept in the workbench. */
  viewing: { view(labSession: string, observer: TerminalClient): Promise<TerminalView | null> };
  sockets: TerminalSockets;
  /** Makes `count` warm sandboxes of the lab ready ahead of a workshop (see Sandboxes.reserveWarm). */
  prewarm(lab: string, count: number): Promise<void>;
  /** Registers the terminal's WebSocket route, and the shutdown of every terminal and background task. */
  register(routes: PortalRoutes): void;
  stop(): Promise<void>;
}

const TERMINAL_ROUTE = '/api/labs/:lab/terminal';
const CHECK_WAIT_MS = 5_000;

const PHASES: Partial<Record<SandboxPhase, StartPhase>> = {
  'claiming-warm-sandbox': 'namespace',
  'creating-namespace': 'namespace',
  'starting-cluster': 'namespace',
  'granting-access': 'namespace',
  'starting-workbench': 'workbench',
  'running-setup': 'setup',
};

function handleOf(sandbox: Sandbox): SandboxHandle {
  const workbench = { namespace: sandbox.namespace, pod: sandbox.workbench.pod, container: sandbox.workbench.container };
  return { namespace: sandbox.namespace, workbench: sandbox.kubeconfig ? { ...workbench, kubeconfig: sandbox.kubeconfig } : workbench };
}

export function startLabs(options: LabsOptions): Labs {
  const log = options.log.child({ component: 'labs' });
  const files = new LabFiles(`${options.root.replace(/\/$/, '')}/labs`);
  const catalog: LabCatalog = { get: (id) => files.get(id).catch(() => null) };

  let sandboxesMade: Promise<Sandboxes> | null = null;
  /** Once made. Stopping must not wait for a cluster that may never get ready (its data dir in use, …). */
  let madeSandboxes: Sandboxes | null = null;
  let giveUp: (error: Error) => void = () => undefined;
  const stopping = new Promise<never>((_, reject) => (giveUp = reject));
  stopping.catch(() => undefined);
  const sandboxes = (): Promise<Sandboxes> => {
    sandboxesMade ??= Promise.race([options.cluster.whenReady(), stopping]).then(() => {
      const kubeConfig = options.cluster.loadKubeConfig();
      const made = new Sandboxes({
        kubeConfig,
        catalog: files,
        warmPool: options.warmPool ?? 0,
        limit: options.sandboxLimit ?? null,
        // Replicas elect one reaper in the portal's own namespace (a pod's service account's; `default` elsewhere).
        leaderLease: { namespace: kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default' },
        ...(options.dedicatedClusters ? { dedicatedClusters: options.dedicatedClusters } : {}),
        ...(options.podClusters ? { podClusters: options.podClusters } : {}),
        log: { info: (details, message) => log.info(details, message), warn: (details, message) => log.warn(details, message), error: (details, message) => log.error(details, message) },
      });
      made.startBackground();
      madeSandboxes = made;
      return made;
    });
    return sandboxesMade;
  };
  // Sandboxes left by an earlier run are reaped, and warm pools filled, as soon as the cluster serves.
  void files.ids().then((ids) => {
    if (ids.length > 0) void sandboxes();
  });

  const labSandboxes: LabSandboxes = {
    async provision(request) {
      const sandbox = await (await sandboxes()).start(request.lab, request.learnerId, {
        onProgress: (progress) => {
          const phase = PHASES[progress.phase];
          if (phase) request.onPhase(phase);
        },
      });
      return handleOf(sandbox);
    },
    async find(namespace) {
      const sandbox = await (await sandboxes()).get(namespace);
      return sandbox?.ready ? handleOf(sandbox) : null;
    },
    async release(namespace, lab) {
      await (await sandboxes()).end(namespace, lab);
    },
    async extend(namespace, until) {
      await (await sandboxes()).extend(namespace, until);
    },
    async live() {
      return new Set((await (await sandboxes()).list()).map((sandbox) => sandbox.namespace));
    },
  };

  // Checks read the sandbox with the portal's credentials and never change it (in a learner's own
  // cluster, with that cluster's admin credentials).
  let labClusterClient: KubeClient | null = null;
  const checks: LabChecks = {
    async run({ lab, step, sandbox }) {
      const made = await sandboxes();
      const client = sandbox.workbench.kubeconfig ? made.clientOf(sandbox.namespace) : options.podClusters ? await made.clusterClient(sandbox.namespace) : (labClusterClient ??= new KubeClient(options.cluster.loadKubeConfig()));
      void made.touch(sandbox.namespace).catch(() => undefined);
      const checked = lab.steps.find((candidate) => candidate.id === step);
      if (!checked) throw new Error(`lab ${lab.id} has no step "${step}"; its steps are ${lab.steps.map((candidate) => candidate.id).join(', ')}`);
      // A learner's Check waits at most 5 s for a check's `timeout` (a rollout nearly done); they can press it again.
      return evaluateChecks(
        checked.checks,
        { client, namespace: sandbox.namespace, workbench: { pod: sandbox.workbench.pod, container: sandbox.workbench.container }, customChecksFile: lab.customChecksFile },
        { maxWaitMs: CHECK_WAIT_MS },
      );
    },
  };

  const bridge = new TerminalBridge({
    // On the company's cluster the portal runs as several replicas: the learner's shell lives in a
    // tmux session in the workbench, so a terminal opened through any replica finds it again.
    openShell: execShells(() => options.cluster.loadKubeConfig(), options.cluster.mode === 'kubernetes' ? KEPT_SESSION_COMMAND : PLAIN_SHELL_COMMAND),
    ...(options.cluster.mode === 'kubernetes' ? { viewCommand: OBSERVE_SESSION_COMMAND } : {}),
    log: log.child({ component: 'terminals' }),
    onActivity: (_labSession, target) => {
      void sandboxes()
        .then((made) => made.touch(target.namespace))
        .catch((error: unknown) => log.debug({ err: error, namespace: target.namespace }, 'could not record terminal activity'));
    },
  });
  const sessions = createLabSessions({
    records: options.records,
    catalog,
    sandboxes: labSandboxes,
    checks,
    terminals: bridge,
    log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.expirySweepMs ? { expirySweepMs: options.expirySweepMs } : {}),
    ...(options.sessionsPerLearner ? { sessionsPerLearner: options.sessionsPerLearner } : {}),
  });
  const sockets = terminalSockets({ bridge, authorize: sessions.authorizeTerminal, log: log.child({ component: 'terminals' }) });

  const stop = async () => {
    giveUp(new Error('the portal is stopping'));
    await sessions.stop();
    await madeSandboxes?.stop();
  };

  return {
    sessions,
    bridge,
    viewing: { view: (labSession, observer) => bridge.view(labSession, () => sessions.workbenchOf(labSession), observer) },
    sockets,
    async prewarm(lab, count) {
      await (await sandboxes()).reserveWarm(lab, count);
    },
    register(routes) {
      if (!routes.upgrades.patterns.includes(TERMINAL_ROUTE)) routes.upgrade(TERMINAL_ROUTE, sockets.upgrade);
      routes.onShutdown(async () => {
        sockets.close();
        bridge.shutdown();
        await stop();
      });
    },
    stop,
  };
}
