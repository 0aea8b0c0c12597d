// The conformance suite's cluster: one per test file (startCluster on port 0, a temp data dir,
// controllers and the simulated kubelet on), and one namespace per case, each with its own
// kubeconfig whose context defaults to that namespace, so a case types kubectl as a learner would.
// kubectl runs with an isolated HOME per version: the discovery cache is per version, never shared
// between files or with the machine's own ~/.kube.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startCluster, type RunningCluster } from '../../../src/cluster/index.ts';
import type { ResourceDefinition } from '../../../src/cluster/registry/index.ts';
import { StatusError, type KubeObject } from '../../../src/cluster/types.ts';

/** The plain `kubectl` on PATH (a dispatcher that picks the version matching the server). */
const installedKubectl = (() => {
  for (const candidate of ['/usr/bin/kubectl', '/usr/local/bin/kubectl']) {
    try {
      return realpathSync(candidate);
    } catch {
      // try the next one
    }
  }
  return 'kubectl';
})();

export function kubectlBinary(version: string): string {
  return version === 'installed' ? installedKubectl : join(dirname(installedKubectl), `kubectl.${version}`);
}

const hasKubectl = (version: string) => existsSync(kubectlBinary(version));

/** Every versioned kubectl installed, oldest first. */
export const ALL_VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'].filter(hasKubectl);
/** The oldest and the newest: for cases whose output does not differ by version. */
export const EDGE_VERSIONS = ['1.27', '1.33'].filter(hasKubectl);
/**
 * Also what `kubectl` on PATH runs. It is a dispatcher that runs the versioned kubectl matching
 * the server (1.33 here), so it answers as 1.33 does; the cases that learners' everyday commands
 * go through (discovery, get, apply, the tutorials) run it too, the rest do not repeat 1.33.
 */
export const WITH_INSTALLED = [...EDGE_VERSIONS, 'installed'].filter(hasKubectl);
/** Versions from `from` on, e.g. exec needs WebSocket streams (1.30+). */
export const versionsFrom = (from: string) => ALL_VERSIONS.filter((v) => minor(v) >= minor(from));
export const minor = (version: string) => (version === 'installed' ? 33 : Number(version.split('.')[1]));

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  timeoutMs?: number;
  /** A kubeconfig other than the case's (e.g. a ServiceAccount's). */
  kubeconfig?: string;
  /** Working directory (for `-f ./dir`). */
  cwd?: string;
  /** Called with each chunk of stdout as it arrives (e.g. to know a watch has listed). */
  onStdout?: (chunk: string) => void;
}

/** One case's namespace with a kubeconfig whose context points at it. */
export interface Sandbox {
  namespace: string;
  kubeconfig: string;
  /** A fresh folder for this case's files. */
  dir: string;
  kubectl(version: string, args: string[], options?: RunOptions): Promise<KubectlResult>;
  /** kubectl apply -f - with the newest kubectl; throws when it fails (setup, not a case). */
  apply(yaml: string): Promise<void>;
  /**
   * Creates the objects of a YAML stream straight through the registry (admission included, no
   * kubectl process): quick setup for cases that assert something else.
   */
  create(yaml: string): void;
  /** Runs kubectl and throws unless it succeeds (setup, not a case). */
  must(args: string[], options?: RunOptions): Promise<string>;
  /** A kubeconfig for a ServiceAccount of this namespace (a token from the token subresource). */
  kubeconfigFor(serviceAccount: string): Promise<string>;
  writeFile(relative: string, text: string): Promise<string>;
}

export interface ConformanceCluster {
  readonly cluster: RunningCluster;
  readonly dir: string;
  sandbox(hint: string): Promise<Sandbox>;
  /** kubectl with the admin kubeconfig and no default namespace. */
  kubectl(version: string, args: string[], options?: RunOptions): Promise<KubectlResult>;
  get(group: string, version: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(group: string, version: string, resource: string, namespace?: string): KubeObject[];
  /** Polls `check` every 25 ms until it returns a value, or fails naming `what`. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  /** client-node's KubeConfig for the admin, or with a namespace as its context's default. */
  kubeConfig(namespace?: string): k8s.KubeConfig;
}

export interface ConformanceOptions {
  /** Simulated kubelet on (default true): pods start, log and exec. */
  kubelet?: boolean;
  nodes?: number;
  /** The kubelet's time scale: 0.02 turns a 10 s back-off into 200 ms. */
  timeScale?: number;
}

/** Job back-off in tests: upstream's 10 s base shortened, as the kubelet's time is. */
const JOB_BACKOFF_BASE_MS = 200;
/** How long a Node must be missing before pod GC deletes its pods: upstream's 40 s shortened likewise. */
const POD_GC_QUARANTINE_MS = 800;

/**
 * Starts the file's cluster in beforeAll and stops it in afterAll. The returned object is usable
 * from inside tests only.
 */
export function useConformanceCluster(options: ConformanceOptions = {}): ConformanceCluster {
  let cluster: RunningCluster | undefined;
  let dir = '';
  let adminKubeconfig = '';
  let sandboxes = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formicary-conformance-'));
    // The kubelet's sandbox user must pass through to the kubelet's folder, never into the data dir.
    chmodSync(dir, 0o711);
    cluster = await startCluster({
      dataDir: join(dir, 'data'),
      port: 0,
      nodes: options.nodes ?? 3,
      controllers: { job: { backoffBaseMs: JOB_BACKOFF_BASE_MS }, podGC: { quarantineMs: POD_GC_QUARANTINE_MS } },
      ...(options.kubelet === false ? {} : { kubelet: { kubeletDir: join(dir, 'kubelet'), timing: { startDelayScale: 0, timeScale: options.timeScale ?? 0.02 } } }),
    });
    adminKubeconfig = join(dir, 'admin.kubeconfig');
    await cluster.writeKubeconfig(adminKubeconfig);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const running = () => {
    if (!cluster) throw new Error('the conformance cluster is not running (use it inside a test)');
    return cluster;
  };
  const def = (group: string, version: string, resource: string): ResourceDefinition => {
    const found = running().registry.lookup(group, version, resource);
    if (!found) throw new Error(`${group}/${version}/${resource} is not served`);
    return found;
  };

  const kubectl = (version: string, args: string[], kubeconfig: string, runOptions: RunOptions = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const home = join(dir, `home-${version}`);
      // Never a sync spawn: the server answering kubectl runs on this same event loop.
      const child = execFile(
        kubectlBinary(version),
        ['--kubeconfig', runOptions.kubeconfig ?? kubeconfig, ...args],
        {
          timeout: runOptions.timeoutMs ?? 30_000,
          cwd: runOptions.cwd ?? dir,
          env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: '', LANG: 'C.UTF-8', TZ: 'UTC', KUBECTL_REMOTE_COMMAND_WEBSOCKETS: '' },
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}[killed: ${String(error.signal ?? error.message)}]` : stderr });
        },
      );
      if (runOptions.onStdout) child.stdout?.on('data', (chunk: Buffer | string) => runOptions.onStdout?.(String(chunk)));
      child.stdin?.end(runOptions.stdin ?? '');
    });

  const get = (group: string, version: string, resource: string, namespace: string | undefined, name: string) => {
    try {
      return running().registry.get(def(group, version, resource), namespace, name);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return undefined;
      throw error;
    }
  };

  const until = async <T,>(what: string, check: () => T | undefined | false, timeoutMs = 25_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value as T;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  return {
    get cluster() {
      return running();
    },
    get dir() {
      return dir;
    },
    kubectl: (version, args, runOptions) => kubectl(version, args, adminKubeconfig, runOptions),
    get,
    list: (group, version, resource, namespace) => running().registry.list(def(group, version, resource), namespace ? { namespace } : {}).items,
    until,
    kubeConfig(namespace) {
      const config = new k8s.KubeConfig();
      config.loadFromString(running().kubeconfig(namespace ? { namespace } : {}));
      return config;
    },
    async sandbox(hint) {
      const c = running();
      sandboxes += 1;
      const namespace = `${hint.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50)}-${sandboxes}`;
      c.registry.create(def('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      // As on a real cluster, pods are admitted once the namespace's default ServiceAccount exists.
      await until(`the default ServiceAccount of ${namespace}`, () => get('', 'v1', 'serviceaccounts', namespace, 'default'));
      await until(`kube-root-ca.crt in ${namespace}`, () => get('', 'v1', 'configmaps', namespace, 'kube-root-ca.crt'));
      const caseDir = join(dir, 'cases', namespace);
      await mkdir(caseDir, { recursive: true });
      const kubeconfig = join(caseDir, 'kubeconfig');
      await c.writeKubeconfig(kubeconfig, { namespace });
      const sandbox: Sandbox = {
        namespace,
        kubeconfig,
        dir: caseDir,
        kubectl: (version, args, runOptions) => kubectl(version, args, kubeconfig, { cwd: caseDir, ...runOptions }),
        async must(args, runOptions) {
          const result = await kubectl(ALL_VERSIONS.at(-1) ?? 'installed', args, kubeconfig, { cwd: caseDir, ...runOptions });
          if (result.code !== 0) throw new Error(`setup kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
          return result.stdout;
        },
        create(yaml) {
          for (const document of parseAllDocuments(yaml)) {
            const object = document.toJSON() as KubeObject | null;
            if (!object) continue;
            const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
            const definition = c.registry.lookupKind(group ?? '', version ?? '', object.kind);
            if (!definition) throw new Error(`setup: ${object.apiVersion} ${object.kind} is not served`);
            c.registry.create(definition, definition.namespaced ? namespace : undefined, { ...object, metadata: { ...object.metadata, ...(definition.namespaced ? { namespace } : {}) } });
          }
        },
        async apply(yaml) {
          await sandbox.must(['apply', '-f', '-'], { stdin: yaml });
        },
        async kubeconfigFor(serviceAccount) {
          const token = (await sandbox.must(['create', 'token', serviceAccount])).trim();
          const file = join(caseDir, `${serviceAccount}.kubeconfig`);
          await c.writeKubeconfig(file, { token, namespace });
          return file;
        },
        async writeFile(relative, text) {
          const file = join(caseDir, relative);
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, text);
          return file;
        },
      };
      return sandbox;
    },
  };
}
