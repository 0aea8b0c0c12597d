// `npm run images -- [portal] [workbench] [--out DIR] [--tag TAG] [--kubectl FILE]`: builds the
// container images from Debian packages without a container engine. mmdebstrap makes the root file
// system (SOURCE_DATE_EPOCH from the last commit, so a rebuild from the same commit and the same
// Debian packages gives the same files), umoci turns it into an OCI image layout. The result loads
// with `podman load -i DIR/NAME-TAG.oci.tar` or copies to a registry with
// `skopeo copy oci-archive:DIR/NAME-TAG.oci.tar docker://REGISTRY/formicary/NAME:TAG`.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const HERE = import.meta.dirname;
const SUITE = 'bookworm';

export interface ImageDefinition {
  name: 'portal' | 'workbench';
  packages: string[];
  /** mmdebstrap customize hooks, run with the root file system as $1. */
  hooks(stage: string): string[];
  user: string;
  workingDir: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  ports: string[];
}

function sh(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export const IMAGES: Record<ImageDefinition['name'], ImageDefinition> = {
  // A learner's terminal on a real cluster: bash, kubectl, the everyday tools, and tmux so a
  // terminal opened again finds the same session.
  workbench: {
    name: 'workbench',
    packages: ['bash', 'bash-completion', 'ca-certificates', 'curl', 'jq', 'less', 'vim-tiny', 'nano', 'git', 'wget', 'procps', 'tmux', 'iputils-ping', 'dnsutils', 'netcat-openbsd', 'locales-all'],
    hooks: (stage) => [
      `copy-in ${stage}/kubectl ${stage}/workbench-init ${stage}/workbench-shell /usr/local/bin`,
      `copy-in ${stage}/tmux.conf /etc`,
      `cp ${sh(`${stage}/bashrc`)} "$1/etc/skel/.bashrc"`,
      'chroot "$1" useradd --uid 1000 --user-group --create-home --shell /bin/bash learner',
      'ln -sf vim.tiny "$1/usr/bin/vim"',
    ],
    user: '1000:1000',
    workingDir: '/home/learner',
    entrypoint: ['/usr/local/bin/workbench-init'],
    cmd: [],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/home/learner', 'LANG=C.UTF-8', 'TERM=xterm-256color'],
    ports: [],
  },
  // The portal: the repository as committed, its production dependencies (Node 24 among them),
  // the built site, and what the embedded cluster needs when the image runs everything alone.
  portal: {
    name: 'portal',
    packages: ['ca-certificates', 'tini', 'bubblewrap', 'socat', 'util-linux', 'procps', 'bash', 'busybox-static', 'e2fsprogs', 'iproute2', 'nftables'],
    hooks: (stage) => [
      `copy-in ${stage}/formicary /opt`,
      `copy-in ${stage}/kubectl /usr/local/bin`,
      'chroot "$1" useradd --uid 10001 --user-group --system --home-dir /var/lib/formicary --create-home --shell /usr/sbin/nologin formicary',
      'chown -R 0:0 "$1/opt/formicary"',
    ],
    user: '10001:10001',
    workingDir: '/opt/formicary',
    entrypoint: ['/usr/bin/tini', '--', '/opt/formicary/node_modules/.bin/node', '/opt/formicary/scripts/start.ts'],
    cmd: [],
    env: ['PATH=/opt/formicary/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production', 'HOST=0.0.0.0', 'PORT=4321', 'DATA_DIR=/var/lib/formicary'],
    ports: ['4321/tcp'],
  },
};

class BuildError extends Error {}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): void {
  const result = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: options.quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit', encoding: 'utf8' });
  if (result.error) throw new BuildError(`${command}: ${result.error.message}${(result.error as NodeJS.ErrnoException).code === 'ENOENT' ? ` (install it: apt-get install ${command})` : ''}`);
  if (result.status !== 0) throw new BuildError(`${command} ${args.slice(0, 3).join(' ')} … exited with ${result.status}${result.stderr ? `:\n${result.stderr.trim()}` : ''}`);
}

/** The google-cloud-sdk `kubectl` is a dispatcher: the image needs a real binary, the newest versioned sibling. */
export function findKubectl(): string {
  const onPath = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  if (!onPath) throw new BuildError('kubectl is not on PATH: pass --kubectl FILE (a kubectl binary of the version your clusters run)');
  const real = realpathSync(onPath);
  for (const version of ['1.33', '1.32', '1.31', '1.30']) {
    const sibling = path.join(path.dirname(real), `kubectl.${version}`);
    if (existsSync(sibling)) return sibling;
  }
  return real;
}

function sourceDateEpoch(): string {
  return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: REPO, encoding: 'utf8' }).trim();
}

function stagePortal(stage: string, log: (line: string) => void): void {
  const app = path.join(stage, 'formicary');
  mkdirSync(app);
  log('portal: the committed tree (git archive HEAD)');
  execFileSync('sh', ['-c', `git archive --format=tar HEAD | tar -x -C ${sh(app)}`], { cwd: REPO });
  log('portal: production dependencies (npm ci --omit=dev)');
  // npm scripts and astro run on the Node 24 this build runs on, whatever node is first on PATH.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env, quiet: true });
  log('portal: the site (astro build)');
  run(process.execPath, [path.join(app, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build', '--silent'], { cwd: app, env, quiet: true });
}

function stageWorkbench(stage: string): void {
  for (const file of ['workbench-init', 'workbench-shell', 'bashrc', 'tmux.conf']) {
    copyFileSync(path.join(HERE, 'workbench', file), path.join(stage, file));
    chmodSync(path.join(stage, file), file.startsWith('workbench-') ? 0o755 : 0o644);
  }
}

export interface BuiltImage {
  name: string;
  tag: string;
  /** OCI image layout directory; the image is its ref TAG. */
  layout: string;
  archive: string;
}

export function buildImage(definition: ImageDefinition, options: { out: string; tag: string; kubectl: string; log?: (line: string) => void }): BuiltImage {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (process.getuid?.() !== 0) throw new BuildError('building images needs root (mmdebstrap creates files owned by other users; umoci keeps them)');
  if (!statSync(options.kubectl).isFile()) throw new BuildError(`--kubectl ${options.kubectl}: not a file`);
  const epoch = sourceDateEpoch();
  const work = mkdtempSync(path.join(tmpdir(), `formicary-image-${definition.name}-`));
  try {
    const stage = path.join(work, 'stage');
    mkdirSync(stage);
    copyFileSync(options.kubectl, path.join(stage, 'kubectl'));
    chmodSync(path.join(stage, 'kubectl'), 0o755);
    if (definition.name === 'portal') stagePortal(stage, log);
    else stageWorkbench(stage);

    log(`${definition.name}: root file system from Debian ${SUITE} (mmdebstrap)`);
    const rootfs = path.join(work, 'rootfs.tar');
    const env = { ...process.env, SOURCE_DATE_EPOCH: epoch };
    run(
      'mmdebstrap',
      [
        '--quiet',
        '--variant=minbase',
        `--include=${definition.packages.join(',')}`,
        '--skip=output/dev',
        '--skip=output/mknod',
        ...definition.hooks(stage).map((hook) => `--customize-hook=${hook}`),
        SUITE,
        rootfs,
      ],
      { env, quiet: true },
    );

    log(`${definition.name}: OCI image (umoci)`);
    const layout = path.join(options.out, definition.name);
    rmSync(layout, { recursive: true, force: true });
    mkdirSync(options.out, { recursive: true });
    const image = `${layout}:${options.tag}`;
    const bundle = path.join(work, 'bundle');
    run('umoci', ['init', '--layout', layout], { quiet: true });
    run('umoci', ['new', '--image', image], { quiet: true });
    run('umoci', ['unpack', '--image', image, bundle], { quiet: true });
    run('tar', ['-xpf', rootfs, '-C', path.join(bundle, 'rootfs'), '--numeric-owner'], { quiet: true });
    const created = new Date(Number(epoch) * 1000).toISOString();
    run('umoci', ['repack', '--image', image, '--history.created', created, '--history.created_by', `formicary deploy/images/build.ts ${definition.name}`, bundle], { quiet: true });
    run(
      'umoci',
      [
        'config',
        '--image',
        image,
        '--created',
        created,
        '--history.created',
        created,
        '--author',
        'Formicary',
        '--config.user',
        definition.user,
        '--config.workingdir',
        definition.workingDir,
        ...definition.entrypoint.flatMap((part) => ['--config.entrypoint', part]),
        ...definition.cmd.flatMap((part) => ['--config.cmd', part]),
        ...definition.env.flatMap((entry) => ['--config.env', entry]),
        ...definition.ports.flatMap((port) => ['--config.exposedports', port]),
        '--config.label',
        `org.opencontainers.image.title=formicary-${definition.name}`,
        '--config.label',
        `org.opencontainers.image.version=${options.tag}`,
      ],
      { quiet: true },
    );
    run('umoci', ['gc', '--layout', layout], { quiet: true });
    const archive = path.join(options.out, `${definition.name}-${options.tag}.oci.tar`);
    run('tar', ['--sort=name', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner', '-cf', archive, '-C', layout, '.'], { quiet: true });
    log(`${definition.name}: ${archive} (${(statSync(archive).size / 2 ** 20).toFixed(0)} MiB)`);
    return { name: definition.name, tag: options.tag, layout, archive };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string', default: path.join(REPO, '.formicary', 'images') }, tag: { type: 'string' }, kubectl: { type: 'string' } },
  });
  const names = positionals.length ? positionals : ['workbench', 'portal'];
  const unknown = names.filter((name) => !(name in IMAGES));
  if (unknown.length) {
    process.stderr.write(`images: unknown image ${unknown.join(', ')}; the images are ${Object.keys(IMAGES).join(', ')}\n`);
    return 2;
  }
  const tag = values.tag ?? (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  try {
    const kubectl = values.kubectl ?? findKubectl();
    for (const name of names) buildImage(IMAGES[name as ImageDefinition['name']], { out: values.out, tag, kubectl });
    return 0;
  } catch (error) {
    if (error instanceof BuildError) {
      process.stderr.write(`images: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
