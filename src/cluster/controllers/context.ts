// What every controller is started with: the registry, its own client identity, an event
// recorder under its component name, and the clock.
import type { Registry } from '../registry/index.ts';
import { ControllerClient, controllerUser, type ControllerWebhooks } from './client.ts';
import type { Clock } from './clock.ts';
import type { EventBroadcaster, EventRecorder } from './events.ts';

export interface ControllerContext {
  registry: Registry;
  clock: Clock;
  events: EventBroadcaster;
  /** A client that writes as system:serviceaccount:kube-system:<name>. */
  clientFor(name: string): ControllerClient;
  recorderFor(component: string): EventRecorder;
  /** Failures a controller could not handle (logged; the key is retried). */
  reportError(controller: string, key: string, error: unknown): void;
}

export function controllerContext(registry: Registry, clock: Clock, events: EventBroadcaster, reportError: ControllerContext['reportError'], webhooks?: ControllerWebhooks): ControllerContext {
  return {
    registry,
    clock,
    events,
    clientFor: (name) => new ControllerClient(registry, controllerUser(name), webhooks),
    recorderFor: (component) => events.recorder({ component }),
    reportError,
  };
}
