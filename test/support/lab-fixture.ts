// A project with one small lab (labs/configure/lab.yaml) for tests of lab sessions: two steps
// about a ConfigMap, checks with teaching messages, hints and solutions, a time limit.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const FIXTURE_LAB = 'configure';

export const FIXTURE_LAB_YAML = `title: Configure an app
summary: Keep an app's settings in a ConfigMap and change them.
duration: 10
timeLimit: 30
steps:
  - id: create
    title: Create the ConfigMap
    instructions: |
      Create a ConfigMap named \`settings\` with the key \`mode\` set to \`fast\`:

      \`\`\`bash
      kubectl create configmap settings --from-literal=mode=fast
      \`\`\`
    checks:
      - kind: exists
        resource: configmap
        name: settings
        message: There is no ConfigMap named settings yet; create it with kubectl create configmap.
    hints:
      - Look at kubectl create configmap --help.
      - Use --from-literal=mode=fast.
    solution:
      - kubectl create configmap settings --from-literal=mode=fast
  - id: change
    title: Slow it down
    instructions: Change \`mode\` in \`settings\` to \`slow\`.
    checks:
      - kind: field
        resource: configmap
        name: settings
        path: "{.data.mode}"
        equals: slow
    hints:
      - kubectl edit or kubectl patch both work.
    solution:
      - "kubectl patch configmap settings --type merge -p '{\\"data\\":{\\"mode\\":\\"slow\\"}}'"
`;

/** A temp project root holding labs/configure; the caller removes it. */
export async function labProject(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'formicary-lab-project-'));
  await mkdir(path.join(root, 'labs', FIXTURE_LAB), { recursive: true });
  await writeFile(path.join(root, 'labs', FIXTURE_LAB, 'lab.yaml'), FIXTURE_LAB_YAML);
  return root;
}
