// `formicary cluster`: the embedded Kubernetes API server alone, a kubectl playground.
// Prints one line containing "ready" once it serves, and stops cleanly on SIGINT/SIGTERM.
import { createWriteStream } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const usage = `usage: formicary cluster [--kubeconfig FILE] [--port N] [--bind-address IP] [--tls-san NAME]... [--data DIR] [--nodes N] [--sandbox-share F] [--hide-path DIR]... [--unsafe-local-shell] [--stop-on-stdin-close] [--audit-log-path FILE]
  --kubeconfig FILE  where to write the admin kubeconfig (default: DIR/kubeconfig)
  --port N           port to listen on (default: 0, any free port)
  --bind-address IP  address to listen on (default: 127.0.0.1); 0.0.0.0 for a cluster in a pod
                     that others reach through a Service
  --tls-san NAME     a DNS name or IP address the serving certificate holds too (repeatable),
                     such as that Service's name; taken when the data dir is new
  --data DIR         certificates, credentials and objects (default: .formicary/cluster)
  --nodes N          how many Nodes to register (default: 3)
  --sandbox-share F  the share of this machine's memory and CPUs all pods together may use,
                     0.05 to 1 (default: 0.5); a pod without limits gets 1 GiB and 1024 processes
  --hide-path DIR    a directory no pod may see, wherever it lies (repeatable; DIR of --data
                     is always hidden)
  --unsafe-local-shell  without bubblewrap, run pod shells (exec, the workbench) unsandboxed
                     as this user; only for a single-user laptop

As a normal user (not root) the cluster runs rootless: in a user namespace of its own, with the
user's subordinate uid and gid ranges (/etc/subuid, /etc/subgid) as the sandboxes' users.
  --stop-on-stdin-close  stop when standard input closes: a supervisor's pipe, so the
                     cluster never outlives the process that started it, however it died
  --audit-log-path FILE  append an audit.k8s.io/v1 Event (JSON, one a line, level Metadata)
                     for every authenticated request, as kube-apiserver's flag of that name
`;

const optionsSchema = z.object({
  kubeconfig: z.string().min(1).optional(),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  data: z.string().min(1).default('.formicary/cluster'),
  nodes: z.coerce.number().int().min(1).max(100).default(3),
  'sandbox-share': z.coerce.number().min(0.05).max(1).default(0.5),
  'hide-path': z.array(z.string().min(1)).default([]),
  'bind-address': z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address, such as 127.0.0.1 or 0.0.0.0' }).default('127.0.0.1'),
  'tls-san': z.array(z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'must be a DNS name or an IP address' })).default([]),
});

export async function runCluster(args: string[]): Promise<number> {
  const started = performance.now();
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        nodes: { type: 'string' },
        'sandbox-share': { type: 'string' },
        'hide-path': { type: 'string', multiple: true },
        'bind-address': { type: 'string' },
        'tls-san': { type: 'string', multiple: true },
        'unsafe-local-shell': { type: 'boolean' },
        'stop-on-stdin-close': { type: 'boolean' },
        'audit-log-path': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    process.stderr.write(`formicary cluster: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const options = optionsSchema.safeParse(parsed.values);
  if (!options.success) {
    const issue = options.error.issues[0];
    process.stderr.write(`formicary cluster: --${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}\n${usage}`);
    return 2;
  }
  const { data, port, nodes } = options.data;
  const kubeconfigFile = resolve(options.data.kubeconfig ?? resolve(data, 'kubeconfig'));
  // Loaded after the arguments are known good: --help and mistakes answer without loading the cluster.
  const { inUserNamespace, nodeResourcesForHost, rootlessLaunch, runRootless, startCluster } = await import('../cluster/index.ts');
  const unsafeLocalShell = parsed.values['unsafe-local-shell'] === true;
  let rootlessReason: string | undefined;
  if (process.getuid?.() !== 0 && !unsafeLocalShell) {
    const launch = rootlessLaunch([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
    if ('command' in launch) return runRootless(launch, 'formicary cluster');
    rootlessReason = launch.reason;
  }
  const auditLog = parsed.values['audit-log-path'] === undefined ? null : createWriteStream(resolve(parsed.values['audit-log-path']), { flags: 'a', mode: 0o600 });
  let cluster;
  try {
    cluster = await startCluster({
      dataDir: data,
      port,
      bindAddress: options.data['bind-address'],
      tlsSans: options.data['tls-san'],
      nodes,
      // The Nodes advertise what this machine can hold of pods, the share --sandbox-share gives them.
      controllers: { nodes: nodeResourcesForHost({ memoryBytes: totalmem(), podShare: options.data['sandbox-share'] }, nodes) },
      kubelet: {
        unsafeLocalShell,
        resources: { hostShare: options.data['sandbox-share'] },
        hiddenPaths: options.data['hide-path'].map((dir) => resolve(dir)),
      },
      ...(auditLog ? { audit: (event) => auditLog.write(`${JSON.stringify(event)}\n`) } : {}),
    });
  } catch (error) {
    process.stderr.write(`formicary cluster: could not start: ${whyNotStarted(error, port, options.data['bind-address'], data)}\n`);
    return 1;
  }
  await cluster.writeKubeconfig(kubeconfigFile);
  const elapsed = Math.round(performance.now() - started);

  // The signal handlers come before the ready line: whoever reads that line may signal at once,
  // and a signal with no handler yet would end the process without a stop.
  let parentGone = false;
  const stopRequested = new Promise<void>((done) => {
    const stop = (why: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.write(`formicary cluster: ${why}, stopping\n`);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (parsed.values['stop-on-stdin-close'] === true) {
      // Nobody writes to the pipe; it ends when the parent exits, even by SIGKILL. The parent
      // read our output: once it is gone, writing there fails, and that must not cut the stop short.
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      const orphaned = () => {
        parentGone = true;
        stop('standard input closed (the parent exited)');
      };
      process.stdin.once('end', orphaned);
      process.stdin.once('error', orphaned);
      process.stdin.resume();
    }
  });
  process.stdout.write(`formicary cluster ready at ${cluster.url} in ${elapsed} ms; kubeconfig: ${kubeconfigFile}\n`);
  const sandbox = cluster.kubelet?.sandbox;
  if (sandbox?.mode === 'unavailable') process.stderr.write(`formicary cluster: shells are disabled: ${rootlessReason ? `rootless mode is not possible: ${rootlessReason}` : sandbox.reason}\n`);
  if (sandbox?.mode === 'bubblewrap' && inUserNamespace()) process.stderr.write('formicary cluster: rootless: sandboxes run in this user\'s user namespace; ephemeral-storage limits are enforced by eviction only (a hard cap needs loop mounts, which need real root); CPU, memory and process limits hold only where this user may create cgroups\n');
  if (sandbox?.mode === 'unsafe-local') process.stderr.write('formicary cluster: --unsafe-local-shell: pod shells run unsandboxed as this user\n');
  await stopRequested;
  if (!parentGone) {
    // The pipe watched for --stop-on-stdin-close would keep Node's event loop, and so this process,
    // alive after the stop: a supervisor that sent SIGTERM would wait for its SIGKILL timeout.
    if (parsed.values['stop-on-stdin-close'] === true) process.stdin.destroy();
    await cluster.stop();
    process.stdout.write('formicary cluster: stopped\n');
    return 0;
  }
  // A cluster whose parent is gone must not outlive it: the stop gets a bounded time, and the
  // process ends then whatever is still open (a stop stuck on a pod, a handle that keeps Node's
  // event loop alive). The pods' processes end with it (they die with their parent).
  const stopped = await Promise.race([cluster.stop().then(() => true), new Promise<false>((resolve) => setTimeout(resolve, ORPHAN_STOP_MS, false).unref())]);
  process.stdout.write(stopped ? 'formicary cluster: stopped\n' : `formicary cluster: the stop did not finish within ${ORPHAN_STOP_MS / 1000} s; exiting\n`);
  process.exit(stopped ? 0 : 1);
}

/** How long a cluster whose parent exited may take to stop before it exits anyway. */
const ORPHAN_STOP_MS = 20_000;

function whyNotStarted(error: unknown, port: number, address: string, data: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${address} is already in use; choose another with --port N (0 picks a free one)`;
  if (code === 'EACCES' || code === 'EROFS') return `cannot write the data dir ${resolve(data)} (${code}); choose another with --data DIR`;
  return error instanceof Error ? error.message : String(error);
}
