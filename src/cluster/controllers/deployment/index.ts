// The Deployment controller's face: the controller, and intstr's scaling of a count or a
// percentage, which the DaemonSet and disruption controllers share.
export { startDeploymentController } from './controller.ts';
export { scaledValue } from './replica-sets.ts';
