// securityContext.capabilities as a container runtime applies them: a root container holds the
// runtime's default set (less NET_RAW, which the pod sandbox does not grant), drop and add change
// it, a user other than root holds them only in its bounding set, and execs hold what the
// container holds. What the pod sandbox cannot grant is refused when the pod is created, naming
// the field; a namespace's Pod Security level still answers first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster, versionedKubectl } from './harness.ts';

let lab: KubeletCluster;
const ns = 'caps';
const restricted = 'caps-restricted';

/** CHOWN…AUDIT_WRITE and SYS_CHROOT, KILL, SETFCAP: containerd's default 0xa80425fb without NET_RAW (bit 13). */
const RUNTIME_DEFAULT = '00000000a80405fb';
const NET_BIND_SERVICE = '0000000000000400';
const NONE = '0000000000000000';

function pod(name: string, container: string, command = 'grep Cap /proc/self/status; sleep 3600', image = 'busybox:1.36'): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: ${image}
    command: [sh, -c, '${command}']
${container}
`;
}

/** The Cap lines of the container's log, as a map (CapEff → hex). */
async function capsOf(name: string): Promise<Record<string, string>> {
  const lines = await lab.eventually(`the Cap lines in ${name}'s log`, async () => {
    const result = await lab.kubectl(['logs', '-n', ns, name]);
    return result.stdout.includes('CapAmb') ? result.stdout : undefined;
  });
  return parse(lines);
}

function parse(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((match) => [match[1] as string, match[2] as string]));
}

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.kubectl(['create', 'namespace', restricted]);
  await lab.kubectl(['label', 'namespace', restricted, 'pod-security.kubernetes.io/enforce=restricted']);
  await lab.serviceAccountReady(ns);
  await lab.serviceAccountReady(restricted);
});
afterAll(async () => {
  await lab?.stop();
});

describe('capabilities a container holds', () => {
  it("gives a root container the runtime's default set when its securityContext says nothing, and the same to its execs", async () => {
    await lab.apply(pod('plain', ''), ns);
    expect(await capsOf('plain')).toEqual({ CapInh: NONE, CapPrm: RUNTIME_DEFAULT, CapEff: RUNTIME_DEFAULT, CapBnd: RUNTIME_DEFAULT, CapAmb: NONE });
    await lab.until('plain Running', () => phase(lab.pod(ns, 'plain')) === 'Running');
    const exec = await lab.kubectl(['exec', '-n', ns, 'plain', '--', 'grep', 'Cap', '/proc/self/status']);
    expect(parse(exec.stdout)).toEqual({ CapInh: NONE, CapPrm: RUNTIME_DEFAULT, CapEff: RUNTIME_DEFAULT, CapBnd: RUNTIME_DEFAULT, CapAmb: NONE });
    // DAC_OVERRIDE is real: root reads a file whose mode lets no one read it.
    const powers = await lab.kubectl(['exec', '-n', ns, 'plain', '--', 'sh', '-c', 'echo secret > /tmp/f; chmod 000 /tmp/f; cat /tmp/f']);
    expect(powers.stdout).toBe('secret\n');
    // SYS_CHROOT is real too: the runtime's seccomp profile lets a process that holds it chroot.
    const chroot = await lab.kubectl(['exec', '-n', ns, 'plain', '--', 'chroot', '/', 'echo', 'inside']);
    expect(chroot.stdout).toBe('inside\n');
  });

  it('drops ALL and adds back NET_BIND_SERVICE: only that one, and the server on port 80 runs', async () => {
    const context = '    securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}';
    await lab.apply(pod('web', context, 'grep Cap /proc/self/status; exec httpd -f -p 80'), ns);
    expect(await capsOf('web')).toEqual({ CapInh: NONE, CapPrm: NET_BIND_SERVICE, CapEff: NET_BIND_SERVICE, CapBnd: NET_BIND_SERVICE, CapAmb: NONE });
    await lab.until('web Running', () => phase(lab.pod(ns, 'web')) === 'Running');
    const listening = await lab.eventually('httpd listening on 80', async () => {
      const result = await lab.kubectl(['exec', '-n', ns, 'web', '--', 'netstat', '-ltn']);
      return result.stdout.includes(':80 ') ? result.stdout : undefined;
    });
    expect(listening).toMatch(/:::80 |0\.0\.0\.0:80 /);
  });

  it('takes away what drop names: root without DAC_OVERRIDE cannot read an unreadable file', async () => {
    const context = '    securityContext: {capabilities: {drop: [NET_BIND_SERVICE, dac_override]}}';
    await lab.apply(pod('dropped', context), ns);
    expect((await capsOf('dropped'))['CapEff']).toBe('00000000a80401f9');
    await lab.until('dropped Running', () => phase(lab.pod(ns, 'dropped')) === 'Running');
    const read = await lab.kubectl(['exec', '-n', ns, 'dropped', '--', 'sh', '-c', 'echo secret > /tmp/f; chmod 000 /tmp/f; cat /tmp/f']);
    expect(read.code).not.toBe(0);
    expect(read.stderr).toContain('Permission denied');
  });

  it('gives a user other than root its capabilities only in the bounding set, as a runtime does', async () => {
    const context = '    securityContext: {runAsUser: 1000, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}';
    await lab.apply(pod('user', context), ns);
    expect(await capsOf('user')).toEqual({ CapInh: NONE, CapPrm: NONE, CapEff: NONE, CapBnd: NET_BIND_SERVICE, CapAmb: NONE });
    // An image on the host's tools (debian runs as uid 1000 here) the same way.
    await lab.apply(pod('tools', '    securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}', undefined, 'debian:12'), ns);
    expect(await capsOf('tools')).toEqual({ CapInh: NONE, CapPrm: NONE, CapEff: NONE, CapBnd: NET_BIND_SERVICE, CapAmb: NONE });
  });

  it('passes the restricted Pod Security level with drop ALL and NET_BIND_SERVICE added back', async () => {
    const result = await lab.kubectl(['apply', '-n', restricted, '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata: {name: tight}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, 'grep Cap /proc/self/status; sleep 3600']
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}
`,
    });
    expect(result.stderr).toBe('');
    const log = await lab.eventually('the Cap lines', async () => {
      const logs = await lab.kubectl(['logs', '-n', restricted, 'tight']);
      return logs.stdout.includes('CapAmb') ? logs.stdout : undefined;
    });
    expect(parse(log)).toEqual({ CapInh: NONE, CapPrm: NONE, CapEff: NONE, CapBnd: NET_BIND_SERVICE, CapAmb: NONE });
  });
});

describe.each(['1.27', '1.33'])('what the pod sandbox cannot grant, kubectl %s', (version) => {
  const kubectl = (args: string[], stdin: string) => lab.kubectl(args, { stdin, binary: versionedKubectl(version) });
  const name = `admin-${version.replace('.', '-')}`;

  it('is refused at creation with the field that asked for it', async () => {
    const context = '    securityContext: {capabilities: {add: [NET_BIND_SERVICE, NET_ADMIN, CAP_CHOWN]}}';
    const result = await kubectl(['apply', '-n', ns, '-f', '-'], pod(name, context));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The Pod "${name}" is invalid: `);
    expect(result.stderr).toContain(
      "spec.containers[0].securityContext.capabilities.add[1]: Forbidden: this cluster's pod sandbox cannot grant NET_ADMIN; it can grant CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE, SYS_PTRACE",
    );
    expect(result.stderr).toContain('spec.containers[0].securityContext.capabilities.add[2]: Forbidden: capability names are written without the CAP_ prefix (CHOWN)');
    expect(result.stderr).not.toContain('add[0]');
    expect(lab.pod(ns, name)).toBeUndefined();
  });

  it('a privileged container is admitted with a warning that it runs unprivileged; under restricted, Pod Security answers first', async () => {
    const privileged = await kubectl(['apply', '-n', ns, '-f', '-'], pod(`${name}-priv`, '    securityContext: {privileged: true}'));
    expect(privileged).toMatchObject({
      code: 0,
      stdout: `pod/${name}-priv created\n`,
      stderr: "Warning: spec.containers[0].securityContext.privileged: this cluster's pod sandbox runs the container unprivileged, with only the capabilities it can grant\n",
    });
    const underRestricted = await kubectl(['apply', '-n', restricted, '-f', '-'], pod(`${name}-r`, '    securityContext: {capabilities: {add: [NET_ADMIN]}}'));
    expect(underRestricted.stderr).toContain(`pods "${name}-r" is forbidden: violates PodSecurity "restricted:latest"`);
    expect(underRestricted.stderr).toContain('must not include "NET_ADMIN" in securityContext.capabilities.add');
  });
});

describe('workloads and debug containers asking for what cannot be granted', () => {
  it("a Deployment is created and its ReplicaSet reports the refusal as FailedCreate", async () => {
    await lab.apply(
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: netadmin}
spec:
  selector: {matchLabels: {app: netadmin}}
  template:
    metadata: {labels: {app: netadmin}}
    spec:
      containers:
      - {name: main, image: busybox:1.36, command: [sleep, '3600'], securityContext: {capabilities: {add: [NET_ADMIN]}}}
`,
      ns,
    );
    const event = await lab.eventually('a FailedCreate event', async () => {
      const result = await lab.kubectl(['get', 'events', '-n', ns, '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[*].message}']);
      return result.stdout.includes('NET_ADMIN') ? result.stdout : undefined;
    });
    expect(event).toContain("spec.containers[0].securityContext.capabilities.add[0]: Forbidden: this cluster's pod sandbox cannot grant NET_ADMIN");
  });

  it('kubectl debug --profile=netadmin is refused naming the ephemeral container', async () => {
    await lab.until('plain Running', () => phase(lab.pod(ns, 'plain')) === 'Running');
    const result = await lab.kubectl(['debug', '-n', ns, 'plain', '--image=busybox:1.36', '-c', 'net', '--profile=netadmin', '--', 'true'], { binary: versionedKubectl('1.33') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("spec.ephemeralContainers[0].securityContext.capabilities.add[0]: Forbidden: this cluster's pod sandbox cannot grant NET_ADMIN");
  });
});
