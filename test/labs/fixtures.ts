// Lab folders written for a test, so sandbox and check tests do not depend on the real labs.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function writeLab(labsDir: string, id: string, files: Record<string, string>): Promise<string> {
  const dir = join(labsDir, id);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/** A small lab: a setup ConfigMap and command, cluster-wide extra access, one step. */
export const sampleLab = {
  'lab.yaml': `title: Sample lab
summary: For tests.
duration: 5
timeLimit: 30
rbac:
  - apiGroups: ['']
    resources: [nodes]
    verbs: [get, list]
    scope: cluster
  - apiGroups: ['']
    resources: [resourcequotas]
    verbs: [create]
quota:
  cpu: '1'
  memory: 1Gi
  pods: 4
  services: 2
setup:
  manifests: [setup/settings.yaml]
  commands:
    - kubectl annotate configmap settings prepared=yes
steps:
  - id: create
    title: Create the Deployment
    instructions: Create a Deployment named web.
    checks:
      - kind: exists
        resource: deploy
        name: web
      - kind: field
        resource: configmap
        name: settings
        path: '{.metadata.annotations.prepared}'
        equals: 'yes'
        passesBefore: true
    solution:
      - kubectl create deployment web --image=nginx:1.27
  - id: scale
    title: Scale it
    instructions: Two replicas.
    checks:
      - kind: field
        resource: deploy
        name: web
        path: '{.spec.replicas}'
        equals: 2
    solution:
      - kubectl scale deployment web --replicas=2
`,
  'setup/settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
};
