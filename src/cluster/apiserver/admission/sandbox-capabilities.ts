// A capability the pod sandbox cannot grant (kubelet/sandbox/capabilities.ts) is refused when the
// pod is created, as a field error naming what asked for it, rather than the pod starting without
// it. A privileged container is admitted, as Pod Security lessons need privileged pods to exist
// where the namespace allows them, with a warning that it runs unprivileged. It runs after
// PodSecurity, so a namespace's Pod Security level answers first, as it would on a real cluster.
import { isJson, type Json, objects } from '../../json.ts';
import type { KubeObject } from '../../types.ts';
import { type AdmissionPlugin, type AdmissionRequest, type FieldError, fieldError, invalidObject } from '../../registry/index.ts';
import { capabilityRefusal } from '../../kubelet/sandbox/index.ts';

const containerFields = ['initContainers', 'containers', 'ephemeralContainers'] as const;

const contextOf = (container: Json): Json => (isJson(container['securityContext']) ? container['securityContext'] : {});

function containerErrors(container: Json, path: string): FieldError[] {
  const context = contextOf(container);
  const errors: FieldError[] = [];
  const capabilities = isJson(context['capabilities']) ? context['capabilities'] : {};
  const added = Array.isArray(capabilities['add']) ? capabilities['add'] : [];
  added.forEach((name, i) => {
    const refusal = typeof name === 'string' ? capabilityRefusal(name) : undefined;
    if (refusal) errors.push(fieldError.forbidden(`${path}.securityContext.capabilities.add[${i}]`, refusal));
  });
  return errors;
}

/** The pod's containers to admit, with their field paths: on an update only the ephemeral containers it adds (the others were admitted before). */
function newContainers(pod: KubeObject, old: KubeObject | undefined): Array<{ container: Json; path: string }> {
  const spec = isJson(pod.spec) ? pod.spec : {};
  const before = new Set(objects(isJson(old?.spec) ? old.spec['ephemeralContainers'] : undefined).map((container) => container['name']));
  return containerFields.flatMap((field) =>
    objects(spec[field])
      .map((container, i) => ({ container, path: `spec.${field}[${i}]` }))
      .filter(({ container }) => !(field === 'ephemeralContainers' && before.has(container['name']))),
  );
}

export const sandboxCapabilities: AdmissionPlugin = {
  name: 'SandboxCapabilities',
  validate(request: AdmissionRequest): void {
    if (request.definition.group !== '' || request.definition.resource !== 'pods' || !request.object) return;
    const creating = request.operation === 'CREATE' && request.subresource === undefined;
    const addingEphemeral = request.operation === 'UPDATE' && request.subresource === 'ephemeralcontainers';
    if (!creating && !addingEphemeral) return;
    const containers = newContainers(request.object, addingEphemeral ? request.oldObject : undefined);
    const errors = containers.flatMap(({ container, path }) => containerErrors(container, path));
    if (errors.length > 0) throw invalidObject('Pod', '', request.name, errors);
    for (const { container, path } of containers) {
      if (contextOf(container)['privileged'] === true) request.warnings.push(`${path}.securityContext.privileged: this cluster's pod sandbox runs the container unprivileged, with only the capabilities it can grant`);
    }
  },
};
