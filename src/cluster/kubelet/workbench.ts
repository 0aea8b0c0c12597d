// The workbench: the learner's terminal is an exec into a `formicary/workbench` pod, a real bash
// in the sandbox with kubectl on PATH, a kubeconfig bound to the pod's ServiceAccount token and
// namespace (the API server reached through a forward of 127.0.0.1:6443 to its Unix socket),
// HOME on a volume, kubectl completion and a friendly prompt.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../types.ts';
import type { SandboxForward, SandboxIdentity, SandboxMount } from './sandbox/index.ts';
import { createFileAt, PathEscape, walkInRoot } from './volume-root.ts';
import { SERVICE_ACCOUNT_MOUNT } from './volumes.ts';

export const WORKBENCH_HOME = '/home/learner';
/** Where the API server answers inside a workbench. */
export const WORKBENCH_API_PORT = 6443;
const FILES_INSIDE = '/var/run/formicary';
const SYSTEM_TREES = ['/usr/', '/etc/', '/opt/'];

/**
 * The workbench image's own terminal session files (deploy/images/workbench): `workbench-shell`,
 * which keeps the learner's shell in one tmux session, and its tmux.conf. The embedded workbench
 * runs the host's tools, so it gets these two from the image's definition, and a terminal opened
 * again finds the same shell here as on a real cluster.
 */
const IMAGE_FILES = new URL('../../../deploy/images/workbench/', import.meta.url);
let imageFiles: { shell: string; tmuxConf: string } | null | undefined;
function workbenchImageFiles(): { shell: string; tmuxConf: string } | null {
  if (imageFiles === undefined) {
    try {
      imageFiles = { shell: readFileSync(new URL('workbench-shell', IMAGE_FILES), 'utf8'), tmuxConf: readFileSync(new URL('tmux.conf', IMAGE_FILES), 'utf8') };
    } catch {
      imageFiles = null;
    }
  }
  return imageFiles;
}

export interface WorkbenchTools {
  /** The folder of the real kubectl binary (bound read-only when it lies outside the system trees). */
  kubectlDir: string | undefined;
  /** `kubectl completion bash`, generated once. */
  completion: string;
  /** Everyday tools that exist on this host. */
  present: string[];
  missing: string[];
}

const everydayTools = ['kubectl', 'curl', 'jq', 'vim', 'nano', 'less', 'git', 'wget', 'watch', 'yq'];

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, HOME: '/tmp' } }, (_error, stdout) => resolve(stdout));
  });
}

/** Finds kubectl and the everyday tools on this host (once per kubelet, in the background at start). */
export async function detectWorkbenchTools(): Promise<WorkbenchTools> {
  const located = await run('sh', ['-c', everydayTools.map((tool) => `printf '%s=%s\\n' ${tool} "$(command -v ${tool})"`).join('; ')]);
  const paths = new Map(located.split('\n').filter(Boolean).map((line) => line.split('=', 2) as [string, string]));
  const kubectl = paths.get('kubectl');
  // The google-cloud-sdk kubectl is a dispatcher that runs its versioned siblings: bind the folder.
  const kubectlDir = kubectl ? dirname(realpathSync(kubectl)) : undefined;
  const completion = kubectl ? await run(kubectl, ['completion', 'bash']) : '';
  const present = everydayTools.filter((tool) => paths.get(tool));
  const missing = everydayTools.filter((tool) => !paths.get(tool));
  return { kubectlDir, completion, present, missing };
}

const bashrc = `# ~/.bashrc of the Formicary workbench: edit freely, it lives on this pod's home volume.
case $- in *i*) ;; *) return ;; esac
HISTFILE=~/.bash_history
HISTSIZE=5000
HISTCONTROL=ignoredups
shopt -s histappend checkwinsize
PS1='\\[\\e[1;32m\\]learner@\\h\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]\\$ '
alias k=kubectl
alias ll='ls -l'
alias ls='ls --color=auto'
export EDITOR=vim
[ -f ${FILES_INSIDE}/kubectl-completion.bash ] && . ${FILES_INSIDE}/kubectl-completion.bash && complete -o default -F __start_kubectl k
`;

const profile = `# login shells read this; the interactive settings live in ~/.bashrc
[ -f ~/.bashrc ] && . ~/.bashrc
`;

function kubeconfig(server: string, namespace: string, credentials: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: formicary',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${SERVICE_ACCOUNT_MOUNT}/ca.crt`,
    'contexts:',
    '- name: formicary',
    '  context:',
    '    cluster: formicary',
    '    user: learner',
    `    namespace: ${namespace}`,
    'current-context: formicary',
    'users:',
    '- name: learner',
    '  user:',
    ...credentials,
    '',
  ].join('\n');
}

function writeOwned(path: string, content: string, mode: number, owner: SandboxIdentity): void {
  writeFileSync(path, content);
  if (process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
  chmodSync(path, mode);
}

export interface WorkbenchSandbox {
  env: Record<string, string>;
  mounts: SandboxMount[];
  forwards: SandboxForward[];
}

/** What a workbench exec session adds to the container's sandbox. */
export function workbenchSandbox(options: {
  pod: KubeObject;
  podDir: string;
  /** HOME on the host: the volume mounted at /home/learner, or the pod's own home directory. */
  homeDir: string;
  homeFromVolume: boolean;
  tools: WorkbenchTools;
  apiSocket: string;
  /** The sandbox's identity: HOME and what the kubelet writes into it belong to it. */
  owner: SandboxIdentity;
}): WorkbenchSandbox {
  const { pod, podDir, homeDir, tools, owner } = options;
  const namespace = pod.metadata.namespace ?? 'default';
  const filesDir = join(podDir, 'workbench');
  if (!existsSync(filesDir)) mkdirSync(filesDir, { recursive: true, mode: 0o755 });
  chmodSync(filesDir, 0o755);
  const config = kubeconfig(`https://127.0.0.1:${WORKBENCH_API_PORT}`, namespace, [`    tokenFile: ${SERVICE_ACCOUNT_MOUNT}/token`]);
  writeOwned(join(filesDir, 'kubeconfig'), config, 0o644, owner);
  writeOwned(join(filesDir, 'kubectl-completion.bash'), tools.completion, 0o644, owner);
  const image = workbenchImageFiles();
  if (image) {
    if (!existsSync(join(filesDir, 'bin'))) mkdirSync(join(filesDir, 'bin'), { mode: 0o755 });
    writeOwned(join(filesDir, 'bin', 'workbench-shell'), image.shell, 0o755, owner);
    writeOwned(join(filesDir, 'tmux.conf'), image.tmuxConf, 0o644, owner);
  }
  // HOME is the learner's: whatever they left there (a file, a link to anywhere) is never written
  // through. The starter files are made only where no name is taken, inside HOME, by descriptor.
  // ~/.kube/config is the learner's to change (kubectl config set-context); a pristine copy stays in /var/run/formicary.
  try {
    walkInRoot(homeDir, '.', { links: 'refuse-escape' }, (_resolved, home) => {
      createFileAt(home, '.bashrc', bashrc, 0o644, owner);
      createFileAt(home, '.profile', profile, 0o644, owner);
    });
    walkInRoot(homeDir, '.kube', { links: 'refuse-escape', create: { ...owner, mode: 0o750 } }, (_resolved, kube) => createFileAt(kube, 'config', config, 0o600, owner));
  } catch (error) {
    if (!(error instanceof PathEscape)) throw error;
  }

  const mounts: SandboxMount[] = [{ source: filesDir, target: FILES_INSIDE, readOnly: true }];
  if (!options.homeFromVolume) mounts.push({ source: homeDir, target: WORKBENCH_HOME, readOnly: false });
  const path = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', `${FILES_INSIDE}/bin`];
  if (tools.kubectlDir && !SYSTEM_TREES.some((tree) => `${tools.kubectlDir}/`.startsWith(tree))) {
    mounts.push({ source: tools.kubectlDir, target: tools.kubectlDir, readOnly: true });
    path.unshift(tools.kubectlDir);
  }
  return {
    env: {
      HOME: WORKBENCH_HOME,
      USER: 'learner',
      SHELL: '/bin/bash',
      PATH: path.join(':'),
      LANG: 'C.UTF-8',
      EDITOR: 'vim',
      WORKBENCH_TMUX_CONF: `${FILES_INSIDE}/tmux.conf`,
    },
    mounts,
    forwards: [{ port: WORKBENCH_API_PORT, unixSocket: options.apiSocket }],
  };
}

/** Without bubblewrap (--unsafe-local-shell) the shell runs on the host: a kubeconfig with the real address and an inline token. */
export function unsafeWorkbenchEnv(options: { pod: KubeObject; podDir: string; homeDir: string; apiUrl: string; token: string | undefined; caFile: string; tools: WorkbenchTools }): Record<string, string> {
  const filesDir = join(options.podDir, 'workbench');
  mkdirSync(filesDir, { recursive: true, mode: 0o700 });
  const config = kubeconfig(options.apiUrl, options.pod.metadata.namespace ?? 'default', options.token ? [`    token: ${options.token}`] : []).replace(`${SERVICE_ACCOUNT_MOUNT}/ca.crt`, options.caFile);
  writeFileSync(join(filesDir, 'kubeconfig'), config, { mode: 0o600 });
  if (!existsSync(join(options.homeDir, '.bashrc'))) writeFileSync(join(options.homeDir, '.bashrc'), bashrc.replaceAll(FILES_INSIDE, filesDir));
  writeFileSync(join(filesDir, 'kubectl-completion.bash'), options.tools.completion);
  return { HOME: options.homeDir, KUBECONFIG: join(filesDir, 'kubeconfig'), PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TERM: 'xterm-256color' };
}
