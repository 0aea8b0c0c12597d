// Image references as a container runtime sees them: normalised (nginx → docker.io/library/nginx:latest),
// looked up in the catalog, and pulled — or refused with the message containerd gives for the
// same mistake (a typo of a well-known name, a tag that does not exist, a private repository).
import { createHash } from 'node:crypto';
import type { CatalogImage, ImageBehaviour } from './catalog-image.ts';
import { imageCatalog } from './catalog.ts';

export type { CatalogImage, EnvRequirement, HttpEndpoint, ImageBehaviour } from './catalog-image.ts';
export { imageFiles } from './image-files.ts';
export { containerRoot, HOST_BUSYBOX, imageGroupsOf, type ImageRoot, imageRoot, type RootFilesystemKind } from './root-filesystem.ts';
import type { RootFilesystemKind } from './root-filesystem.ts';

/** The alpine release under the service images' alpine variants (nginx:alpine, redis:7-alpine …). */
export const ALPINE_OF_SERVICE_IMAGES = '3.22.1';

/** Which root file system the image's real processes see: its own (busybox, alpine, a service image's alpine variant), else the host's tools. */
export function rootFilesystemOf(image: ResolvedImage): RootFilesystemKind | undefined {
  if (image.catalog?.rootFilesystem) return image.catalog.rootFilesystem;
  return image.catalog?.kind === 'service' && /(^|-)alpine/.test(image.reference.tag) ? 'alpine' : undefined;
}

export interface ImageReference {
  /** as written in the pod spec */
  text: string;
  domain: string;
  /** library/nginx */
  path: string;
  tag: string;
  digest?: string;
  /** docker.io/library/nginx */
  repository: string;
  /** docker.io/library/nginx:1.27 (or @sha256:… when pinned by digest) */
  normalized: string;
}

export interface ResolvedImage {
  reference: ImageReference;
  /** docker.io/library/nginx@sha256:…, as containerStatuses[].imageID */
  imageID: string;
  sizeBytes: number;
  /** undefined: an image the catalog does not know, run as a generic long-running container */
  catalog?: CatalogImage;
}

export type ImageResolution =
  | { outcome: 'invalid'; message: string }
  | { outcome: 'unavailable'; message: string }
  | { outcome: 'available'; image: ResolvedImage };

const knownDomains = ['docker.io', 'registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'us-docker.pkg.dev', 'quay.io', 'ghcr.io', 'registry.gitlab.com', 'mcr.microsoft.com', 'public.ecr.aws'];
const componentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;

/** Parses like the runtime's reference.ParseNormalizedNamed; a string on failure. */
export function parseImageReference(text: string): ImageReference | string {
  const prefix = `couldn't parse image name "${text}": invalid reference format`;
  if (text === '' || text !== text.trim()) return prefix;
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return prefix;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return prefix;
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    parts.shift();
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (path !== path.toLowerCase()) return `${prefix}: repository name (${path}) must be lowercase`;
  if (parts.some((part) => !componentPattern.test(part))) return prefix;
  const repository = `${domain}/${path}`;
  const effectiveTag = tag ?? (digest ? '' : 'latest');
  return {
    text,
    domain,
    path,
    tag: effectiveTag,
    ...(digest ? { digest } : {}),
    repository,
    normalized: digest ? `${repository}@${digest}` : `${repository}:${effectiveTag}`,
  };
}

function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function closeTo(a: string, b: string): boolean {
  const distance = editDistance(a, b);
  return distance > 0 && distance <= (Math.min(a.length, b.length) <= 5 ? 1 : 2);
}

const byRepository = new Map(imageCatalog.map((image) => [image.repository, image]));
const tagMatchers = new Map(imageCatalog.map((image) => [image.repository, new RegExp(`^(?:${image.tags})$`)]));

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function deniedMessage(ref: ImageReference): string {
  return `rpc error: code = Unknown desc = failed to pull and unpack image "${ref.normalized}": failed to resolve reference "${ref.normalized}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
}

function notFoundMessage(ref: ImageReference): string {
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref.normalized}": failed to resolve reference "${ref.normalized}": ${ref.normalized}: not found`;
}

function unknownHostMessage(ref: ImageReference): string {
  const manifest = `https://${ref.domain}/v2/${ref.path}/manifests/${ref.digest ?? ref.tag}`;
  return `rpc error: code = Unknown desc = failed to pull and unpack image "${ref.normalized}": failed to resolve reference "${ref.normalized}": failed to do request: Head "${manifest}": dial tcp: lookup ${ref.domain} on 10.96.0.10:53: no such host`;
}

/** A well-known name misspelt (ngnix, busybx, registy.k8s.io/pause): the registry has no such repository. */
function nearMiss(ref: ImageReference): 'repository' | 'domain' | undefined {
  if (!knownDomains.includes(ref.domain) && knownDomains.some((domain) => closeTo(ref.domain, domain))) return 'domain';
  const name = ref.path.split('/').pop() ?? '';
  for (const image of imageCatalog) {
    if (closeTo(ref.repository, image.repository)) return 'repository';
    const known = image.repository.split('/').pop() ?? '';
    if (ref.repository.startsWith('docker.io/library/') && image.repository.startsWith('docker.io/library/') && closeTo(name, known)) return 'repository';
  }
  return undefined;
}

/**
 * What pulling `text` gives. Pure: the same reference always resolves the same way. A private
 * repository opens to a pull that carries registry credentials (imagePullSecrets).
 */
export function resolveImage(text: string, options: { credentials?: boolean } = {}): ImageResolution {
  const parsed = parseImageReference(text);
  if (typeof parsed === 'string') return { outcome: 'invalid', message: `Failed to apply default image tag "${text}": ${parsed}` };
  const catalog = byRepository.get(parsed.repository);
  if (catalog) {
    if (catalog.unavailable === 'denied' && !options.credentials) return { outcome: 'unavailable', message: deniedMessage(parsed) };
    if (catalog.unavailable === 'not-found') return { outcome: 'unavailable', message: notFoundMessage(parsed) };
    if (!parsed.digest && !tagMatchers.get(catalog.repository)?.test(parsed.tag)) return { outcome: 'unavailable', message: notFoundMessage(parsed) };
    const digest = parsed.digest ?? `sha256:${digestOf(parsed.normalized)}`;
    return { outcome: 'available', image: { reference: parsed, imageID: `${parsed.repository}@${digest}`, sizeBytes: catalog.sizeBytes, catalog } };
  }
  const miss = nearMiss(parsed);
  if (miss === 'domain') return { outcome: 'unavailable', message: unknownHostMessage(parsed) };
  if (miss === 'repository') return { outcome: 'unavailable', message: deniedMessage(parsed) };
  const hash = digestOf(parsed.normalized);
  const sizeBytes = 5_000_000 + (parseInt(hash.slice(0, 6), 16) % 75_000_000);
  return { outcome: 'available', image: { reference: parsed, imageID: `${parsed.repository}@${parsed.digest ?? `sha256:${hash}`}`, sizeBytes } };
}

/** The behaviour of a service image for these arguments (agnhost picks it by subcommand). */
export function behaviourOf(image: ResolvedImage, args: string[]): ImageBehaviour | undefined {
  const catalog = image.catalog;
  if (!catalog) return undefined;
  let behaviour = catalog.behaviour;
  if (catalog.subcommands) behaviour = catalog.subcommands[args[0] ?? ''] ?? catalog.subcommands[''];
  const override = catalog.tagBehaviour?.[image.reference.tag];
  return behaviour && override ? { ...behaviour, ...override } : behaviour;
}

/** The version an image reports: its tag when that is a version, else the catalog's current one. */
export function versionOf(image: ResolvedImage): string {
  const tag = image.reference.tag;
  const version = /^v?([0-9]+(?:\.[0-9]+)*)/.exec(tag)?.[1];
  if (version) return version.split('.').length >= 2 || !image.catalog ? version : image.catalog.version;
  return image.catalog?.version ?? tag;
}

/** How long a pull takes at a realistic registry speed (before the kubelet's time scale). */
export function pullDurationMs(image: ResolvedImage): number {
  return Math.round(300 + image.sizeBytes / 40_000);
}
