// Printers for pods and the workload controllers, after pkg/printers/internalversion/printers.go.
import type { KubeObject } from '../../types.ts';
import { asArray, asRecord, at, containerCells, formatLabels, formatLabelSelector, humanDuration, int, labelSelectorString, parseTime, since, str } from './format.ts';
import { ageColumn, column, descriptions, nameColumn, wide, type Printer, type PrintedRow, type TableRowCondition } from './printer.ts';

const podSucceeded: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const podFailed: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

function conditionTrue(conditions: unknown, type: string): boolean {
  return asArray(conditions).some((c) => asRecord(c).type === type && asRecord(c).status === 'True');
}

/** Sidecar containers: init containers with restartPolicy Always keep running beside the main ones. */
function isRestartable(container: Record<string, unknown> | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

/** The READY, STATUS and RESTARTS cells, derived exactly as printPod does. */
export function podSummary(pod: KubeObject, now: Date): { ready: string; status: string; restarts: string } {
  const spec = asRecord(pod.spec);
  const status = asRecord(pod.status);
  const conditions = status.conditions;
  const specInit = asArray(spec.initContainers).map(asRecord);
  let totalContainers = asArray(spec.containers).length;
  let readyContainers = 0;
  let restarts = 0;
  let restartableInitRestarts = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;

  const podPhase = str(status.phase);
  let reason = str(status.reason) || podPhase;
  for (const c of asArray(conditions).map(asRecord)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initByName = new Map<string, Record<string, unknown>>();
  for (const c of specInit) {
    initByName.set(str(c.name), c);
    if (isRestartable(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = asArray(status.initContainerStatuses).map(asRecord);
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i] ?? {};
    const restartable = isRestartable(initByName.get(str(container.name)));
    const finishedAt = parseTime(at(container, 'lastState', 'terminated', 'finishedAt')) ?? 0;
    restarts += int(container.restartCount);
    lastRestart = Math.max(lastRestart, finishedAt);
    if (restartable) {
      restartableInitRestarts += int(container.restartCount);
      lastRestartableInitRestart = Math.max(lastRestartableInitRestart, finishedAt);
    }
    const terminated = at(container, 'state', 'terminated') as Record<string, unknown> | undefined;
    const waiting = at(container, 'state', 'waiting') as Record<string, unknown> | undefined;
    if (terminated && int(terminated.exitCode) === 0) continue;
    if (restartable && container.started === true) {
      if (container.ready === true) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!str(terminated.reason)) {
        reason = int(terminated.signal) !== 0 ? `Init:Signal:${int(terminated.signal)}` : `Init:ExitCode:${int(terminated.exitCode)}`;
      } else {
        reason = `Init:${str(terminated.reason)}`;
      }
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${specInit.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(conditions, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = asArray(status.containerStatuses).map(asRecord);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i] ?? {};
      restarts += int(container.restartCount);
      lastRestart = Math.max(lastRestart, parseTime(at(container, 'lastState', 'terminated', 'finishedAt')) ?? 0);
      const waiting = at(container, 'state', 'waiting') as Record<string, unknown> | undefined;
      const terminated = at(container, 'state', 'terminated') as Record<string, unknown> | undefined;
      if (waiting && str(waiting.reason)) {
        reason = str(waiting.reason);
      } else if (terminated && str(terminated.reason)) {
        reason = str(terminated.reason);
      } else if (terminated) {
        reason = int(terminated.signal) !== 0 ? `Signal:${int(terminated.signal)}` : `ExitCode:${int(terminated.exitCode)}`;
      } else if (container.ready === true && at(container, 'state', 'running') !== undefined) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose last container completed but another still runs is Running (or NotReady), not Completed.
    if (reason === 'Completed' && hasRunning) {
      reason = conditionTrue(conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  const deleting = typeof pod.metadata.deletionTimestamp === 'string';
  if (deleting && status.reason === 'NodeLost') {
    reason = 'Unknown';
  } else if (deleting && podPhase !== 'Succeeded' && podPhase !== 'Failed') {
    reason = 'Terminating';
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== 0) {
    restartsCell = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsCell };
}

export const podPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    column('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', wide),
    column('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', wide),
    column('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', wide),
    column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', wide),
  ],
  print(pod, now) {
    const spec = asRecord(pod.spec);
    const status = asRecord(pod.status);
    const { ready, status: reason, restarts } = podSummary(pod, now);
    // The internal version fills podIPs from podIP, so either field names the pod's address.
    const podIP = str(asRecord(asArray(status.podIPs)[0]).ip) || str(status.podIP) || '<none>';
    const gates = asArray(spec.readinessGates).map(asRecord);
    let readinessGates = '<none>';
    if (gates.length > 0) {
      const conditions = asArray(status.conditions).map(asRecord);
      const trueCount = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
      readinessGates = `${trueCount}/${gates.length}`;
    }
    const row: PrintedRow = {
      cells: [pod.metadata.name ?? '', ready, reason, restarts, since(pod.metadata.creationTimestamp, now), podIP, str(spec.nodeName) || '<none>', str(status.nominatedNodeName) || '<none>', readinessGates],
    };
    if (status.phase === 'Succeeded') row.conditions = podSucceeded;
    if (status.phase === 'Failed') row.conditions = podFailed;
    return row;
  },
};

const templateContainers = (o: KubeObject): unknown => at(o, 'spec', 'template', 'spec', 'containers');

export const deploymentPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn(),
    column('Containers', 'string', descriptions.containers, wide),
    column('Images', 'string', descriptions.images, wide),
    column('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const [names, images] = containerCells(templateContainers(o));
    const selector = labelSelectorString(spec.selector);
    return {
      cells: [o.metadata.name ?? '', `${int(status.readyReplicas)}/${int(spec.replicas, 1)}`, int(status.updatedReplicas), int(status.availableReplicas), since(o.metadata.creationTimestamp, now), names, images, selector ?? '<invalid>'],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    column('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    ageColumn(),
    column('Containers', 'string', descriptions.containers, wide),
    column('Images', 'string', descriptions.images, wide),
    column('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const [names, images] = containerCells(templateContainers(o));
    return {
      cells: [o.metadata.name ?? '', int(spec.replicas, 1), int(status.replicas), int(status.readyReplicas), since(o.metadata.creationTimestamp, now), names, images, formatLabelSelector(spec.selector)],
    };
  },
};

export const replicationControllerPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1.'),
    column('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    ageColumn(),
    column('Containers', 'string', descriptions.containers, wide),
    column('Images', 'string', descriptions.images, wide),
    column('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const [names, images] = containerCells(templateContainers(o));
    return { cells: [o.metadata.name ?? '', int(spec.replicas, 1), int(status.replicas), int(status.readyReplicas), since(o.metadata.creationTimestamp, now), names, images, formatLabels(spec.selector)] };
  },
};

export const podTemplatePrinter: Printer = {
  columns: [
    nameColumn(),
    column('Containers', 'string', 'Names of each container in the template.'),
    column('Images', 'string', 'Images referenced by each container in the template.'),
    column('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  print(o) {
    const [names, images] = containerCells(at(o, 'template', 'spec', 'containers'));
    return { cells: [o.metadata.name ?? '', names, images, formatLabels(at(o, 'template', 'metadata', 'labels'))] };
  },
};

export const statefulSetPrinter: Printer = {
  columns: [nameColumn(), column('Ready', 'string', 'Number of the pod with ready state'), ageColumn(), column('Containers', 'string', descriptions.containers, wide), column('Images', 'string', descriptions.images, wide)],
  print(o, now) {
    const [names, images] = containerCells(templateContainers(o));
    return { cells: [o.metadata.name ?? '', `${int(at(o, 'status', 'readyReplicas'))}/${int(at(o, 'spec', 'replicas'), 1)}`, since(o.metadata.creationTimestamp, now), names, images] };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).'),
    column('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    column('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    column('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    column('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
    column('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
    ageColumn(),
    column('Containers', 'string', descriptions.containers, wide),
    column('Images', 'string', descriptions.images, wide),
    column('Selector', 'string', 'A label query over pods that are managed by the daemon set.', wide),
  ],
  print(o, now) {
    const status = asRecord(o.status);
    const [names, images] = containerCells(templateContainers(o));
    return {
      cells: [
        o.metadata.name ?? '',
        int(status.desiredNumberScheduled),
        int(status.currentNumberScheduled),
        int(status.numberReady),
        int(status.updatedNumberScheduled),
        int(status.numberAvailable),
        formatLabels(at(o, 'spec', 'template', 'spec', 'nodeSelector')),
        since(o.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(at(o, 'spec', 'selector')),
      ],
    };
  },
};

function jobStatus(job: KubeObject): string {
  const conditions = at(job, 'status', 'conditions');
  if (conditionTrue(conditions, 'Complete')) return 'Complete';
  if (conditionTrue(conditions, 'Failed')) return 'Failed';
  if (typeof job.metadata.deletionTimestamp === 'string') return 'Terminating';
  if (conditionTrue(conditions, 'Suspended')) return 'Suspended';
  if (conditionTrue(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

export const jobPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn(),
    column('Containers', 'string', descriptions.containers, wide),
    column('Images', 'string', descriptions.images, wide),
    column('Selector', 'string', 'A label query over pods that should match the pod count.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const succeeded = int(status.succeeded);
    let completions: string;
    if (typeof spec.completions === 'number') {
      completions = `${succeeded}/${int(spec.completions)}`;
    } else {
      const parallelism = int(spec.parallelism);
      completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
    }
    const start = parseTime(status.startTime);
    const end = parseTime(status.completionTime);
    let duration = '';
    if (start !== undefined) duration = humanDuration((end ?? now.getTime()) - start);
    const [names, images] = containerCells(templateContainers(o));
    return { cells: [o.metadata.name ?? '', jobStatus(o), completions, duration, since(o.metadata.creationTimestamp, now), names, images, formatLabelSelector(spec.selector)] };
  },
};

function boolPtr(value: unknown): string {
  if (typeof value !== 'boolean') return '<unset>';
  return value ? 'True' : 'False';
}

export const cronJobPrinter: Printer = {
  columns: [
    nameColumn(),
    column('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    column('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.'),
    column('Active', 'integer', 'A list of pointers to currently running jobs.'),
    column('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn(),
    column('Containers', 'string', descriptions.containers, wide),
    column('Images', 'string', descriptions.images, wide),
    column('Selector', 'string', 'A label query over pods that should match the pod count.', wide),
  ],
  print(o, now) {
    const spec = asRecord(o.spec);
    const status = asRecord(o.status);
    const lastSchedule = status.lastScheduleTime === undefined || status.lastScheduleTime === null ? '<none>' : since(status.lastScheduleTime, now);
    const [names, images] = containerCells(at(spec, 'jobTemplate', 'spec', 'template', 'spec', 'containers'));
    return {
      cells: [
        o.metadata.name ?? '',
        str(spec.schedule),
        typeof spec.timeZone === 'string' ? spec.timeZone : '<none>',
        boolPtr(spec.suspend),
        asArray(status.active).length,
        lastSchedule,
        since(o.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(at(spec, 'jobTemplate', 'spec', 'selector')),
      ],
    };
  },
};

export const controllerRevisionPrinter: Printer = {
  columns: [nameColumn(), column('Controller', 'string', 'Controller of the object'), column('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'), ageColumn()],
  print(o, now) {
    const owner = asArray(o.metadata.ownerReferences)
      .map(asRecord)
      .find((ref) => ref.controller === true);
    let controller = '<none>';
    if (owner) {
      const apiVersion = str(owner.apiVersion);
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const kind = str(owner.kind);
      const groupKind = group ? `${kind}.${group}` : kind;
      controller = groupKind ? `${groupKind.toLowerCase()}/${str(owner.name)}` : str(owner.name);
    }
    return { cells: [o.metadata.name ?? '', controller, int(o.revision), since(o.metadata.creationTimestamp, now)] };
  },
};
