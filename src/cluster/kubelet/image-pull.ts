// Pulling a container's image as the kubelet's image manager does: per imagePullPolicy, with its
// events (Pulling, Pulled, Failed, BackOff) and waiting reasons (InvalidImageName,
// ErrImageNeverPull, ErrImagePull); registry credentials come from the pod's or its
// ServiceAccount's imagePullSecrets.
import type { ContainerSlot } from './container-slot.ts';
import { pullBackoffDelayMs } from './container-slot.ts';
import { objects, specOf, str } from '../json.ts';
import { goDuration } from './format.ts';
import { pullDurationMs, type ResolvedImage, resolveImage } from './images/index.ts';
import type { PodContext } from './pod-context.ts';

/** The image, pulled or present; undefined when the container must wait (a failure, back-off, a newer attempt). */
export async function pullImage(context: PodContext, slot: ContainerSlot, current: () => boolean): Promise<ResolvedImage | undefined> {
  const { node } = context;
  const text = slot.imageText;
  const resolution = resolveImage(text, { credentials: hasPullCredentials(context) });
  if (resolution.outcome === 'invalid') {
    slot.image = undefined;
    slot.blockedImage = text;
    slot.state = { waiting: { reason: 'InvalidImageName', message: resolution.message } };
    context.event('Warning', 'InspectFailed', resolution.message, slot);
    context.event('Warning', 'Failed', 'Error: InvalidImageName', slot);
    return undefined;
  }
  const normalized = resolution.outcome === 'available' ? resolution.image.reference.normalized : text;
  const policy = str(slot.spec['imagePullPolicy']) ?? 'IfNotPresent';
  const present = node.imagePresent(normalized);
  if (policy === 'Never' && !present) {
    const message = `Container image "${text}" is not present with pull policy of Never`;
    slot.image = undefined;
    slot.blockedImage = text;
    slot.state = { waiting: { reason: 'ErrImageNeverPull', message } };
    context.event('Warning', 'ErrImageNeverPull', message, slot);
    context.event('Warning', 'Failed', 'Error: ErrImageNeverPull', slot);
    return undefined;
  }
  if (present && policy !== 'Always' && resolution.outcome === 'available') {
    context.event('Normal', 'Pulled', `Container image "${text}" already present on machine`, slot);
    return pulled(slot, resolution.image);
  }
  // A retry after a failed start keeps reporting that failure (CreateContainerConfigError,
  // ImagePullBackOff …) while it pulls, as the kubelet's reason cache does; only a first start shows ContainerCreating.
  const waitingFor = 'waiting' in slot.state ? slot.state.waiting?.reason : undefined;
  if (!slot.terminated && !slot.lastState && (waitingFor === undefined || waitingFor === 'ContainerCreating' || waitingFor === 'PodInitializing')) {
    slot.state = { waiting: { reason: 'ContainerCreating' } };
  }
  context.event('Normal', 'Pulling', `Pulling image "${text}"`, slot);
  context.statusChanged();
  const duration = resolution.outcome === 'available' ? node.startDelay(present ? 400 : pullDurationMs(resolution.image)) : node.startDelay(600);
  const started = performance.now();
  await context.delay(duration);
  if (!current()) return undefined;
  if (resolution.outcome === 'unavailable') {
    slot.pullFailures++;
    slot.pullError = resolution.message;
    slot.pullRetryAt = node.now().getTime() + node.scaled(pullBackoffDelayMs(slot.pullFailures));
    slot.state = { waiting: { reason: 'ErrImagePull', message: resolution.message } };
    context.event('Warning', 'Failed', `Failed to pull image "${text}": ${resolution.message}`, slot);
    context.event('Warning', 'Failed', 'Error: ErrImagePull', slot);
    return undefined;
  }
  const took = goDuration(Math.max(performance.now() - started, present ? 400 : pullDurationMs(resolution.image)));
  node.markImagePresent(normalized);
  context.event('Normal', 'Pulled', `Successfully pulled image "${text}" in ${took} (${took} including waiting). Image size: ${resolution.image.sizeBytes} bytes.`, slot);
  return pulled(slot, resolution.image);
}

/** imagePullSecrets of the pod or its ServiceAccount that exist and hold registry credentials. */
function hasPullCredentials(context: PodContext): boolean {
  const pod = context.pod();
  const namespace = pod.metadata.namespace ?? 'default';
  const spec = specOf(pod);
  const view = context.node.view;
  const account = view.get('serviceaccounts', namespace, str(spec['serviceAccountName']) ?? 'default');
  const names = [...objects(spec['imagePullSecrets']), ...objects(account?.['imagePullSecrets'])].map((ref) => str(ref['name']) ?? '');
  return names.some((name) => {
    const secret = view.get('secrets', namespace, name);
    return secret?.['type'] === 'kubernetes.io/dockerconfigjson' || secret?.['type'] === 'kubernetes.io/dockercfg';
  });
}

function pulled(slot: ContainerSlot, image: ResolvedImage): ResolvedImage {
  slot.image = image;
  slot.imageID = image.imageID;
  slot.pullFailures = 0;
  slot.pullRetryAt = undefined;
  slot.pullError = undefined;
  return image;
}
