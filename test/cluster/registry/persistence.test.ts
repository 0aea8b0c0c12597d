import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configMap, openTestRegistry, statusOf, tempDir, type TestRegistry } from './helpers.ts';

let t: TestRegistry | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await t?.registry.close();
  t = undefined;
  dir?.remove();
  dir = undefined;
});

function logFile(path: string): string {
  const logs = readdirSync(path).filter((f) => /^log\.\d+$/.test(f));
  const last = logs.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).at(-1);
  if (!last) throw new Error(`no log in ${path}: ${readdirSync(path).join(', ')}`);
  return join(path, last);
}

async function writeThree(path: string): Promise<string> {
  const first = await openTestRegistry({ dataDir: path });
  const cms = first.def('', 'v1', 'configmaps');
  for (const name of ['one', 'two', 'three']) first.registry.create(cms, 'default', configMap(name, { name }));
  const rv = first.registry.currentResourceVersion();
  await first.registry.close();
  return rv;
}

describe('persistence', () => {
  it('keeps every object and the resourceVersion across a restart', async () => {
    dir = tempDir();
    const first = await openTestRegistry({ dataDir: dir.path });
    expect(first.registry.firstStart).toBe(true);
    const cms = first.def('', 'v1', 'configmaps');
    const created = first.registry.create(cms, 'default', configMap('kept', { a: '1' }));
    first.registry.delete(cms, 'default', first.registry.create(cms, 'default', configMap('gone')).metadata.name ?? '');
    const rv = first.registry.currentResourceVersion();
    await first.registry.close();

    t = await openTestRegistry({ dataDir: dir.path });
    expect(t.registry.firstStart).toBe(false);
    expect(t.registry.currentResourceVersion()).toBe(rv);
    expect(t.registry.get(cms, 'default', 'kept')).toEqual(created);
    expect(statusOf(() => t?.registry.get(cms, 'default', 'gone')).code).toBe(404);
    expect(t.registry.list(t.def('', 'v1', 'namespaces'), {}).items).toHaveLength(4);
    const next = t.registry.create(cms, 'default', configMap('after'));
    expect(Number(next.metadata.resourceVersion)).toBe(Number(rv) + 1);
    expect(statusOf(() => t?.registry.watch(cms, { resourceVersion: created.metadata.resourceVersion }, () => {})).code).toBe(410);
  });

  it('cuts a torn tail (a record cut short) with a warning and keeps everything before it', async () => {
    dir = tempDir();
    await writeThree(dir.path);
    const log = logFile(dir.path);
    truncateSync(log, statSync(log).size - 7);
    t = await openTestRegistry({ dataDir: dir.path });
    const cms = t.def('', 'v1', 'configmaps');
    expect(t.registry.list(cms, { namespace: 'default' }).items.map((c) => c.metadata.name)).toEqual(['one', 'two']);
    expect(t.warnings.some((w) => /torn or corrupt tail \(record extends past the end of the file\)/.test(w))).toBe(true);
    t.registry.create(cms, 'default', configMap('three'));
    await t.registry.close();
    t = await openTestRegistry({ dataDir: dir.path });
    expect(t.registry.list(t.def('', 'v1', 'configmaps'), { namespace: 'default' }).items.map((c) => c.metadata.name)).toEqual(['one', 'three', 'two']);
    expect(t.warnings).toEqual([]);
  });

  it('detects a corrupt record by its checksum', async () => {
    dir = tempDir();
    await writeThree(dir.path);
    const log = logFile(dir.path);
    const data = readFileSync(log);
    const at = data.lastIndexOf(Buffer.from('"three"'));
    data[at + 2] = 'X'.charCodeAt(0);
    writeFileSync(log, data);
    t = await openTestRegistry({ dataDir: dir.path });
    expect(t.registry.list(t.def('', 'v1', 'configmaps'), { namespace: 'default' }).items.map((c) => c.metadata.name)).toEqual(['one', 'two']);
    expect(t.warnings.some((w) => w.includes('checksum mismatch'))).toBe(true);
  });

  it('survives garbage after the last record', async () => {
    dir = tempDir();
    const rv = await writeThree(dir.path);
    appendFileSync(logFile(dir.path), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
    t = await openTestRegistry({ dataDir: dir.path });
    expect(t.registry.currentResourceVersion()).toBe(rv);
    expect(t.registry.list(t.def('', 'v1', 'configmaps'), { namespace: 'default' }).items).toHaveLength(3);
    expect(t.warnings).toHaveLength(1);
  });

  it('re-takes cluster IPs and node ports that stored Services hold', async () => {
    dir = tempDir();
    const first = await openTestRegistry({ dataDir: dir.path });
    const services = first.def('', 'v1', 'services');
    const svc = first.registry.create(services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], clusterIP: '10.96.0.50' },
    });
    expect(svc.spec).toMatchObject({ clusterIP: '10.96.0.50' });
    await first.registry.close();
    t = await openTestRegistry({ dataDir: dir.path });
    const clash = statusOf(() =>
      t?.registry.create(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other' }, spec: { type: 'NodePort', ports: [{ port: 81, nodePort: 30080 }] } }),
    );
    expect(clash.message).toBe('Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    const ipClash = statusOf(() => t?.registry.create(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ip' }, spec: { clusterIP: '10.96.0.50', ports: [{ port: 80 }] } }));
    expect(ipClash.message).toBe('Service "ip" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: failed to allocate IP 10.96.0.50: provided IP is already allocated');
  });

  it('recovers after the process is killed while writing', async () => {
    dir = tempDir();
    const script = join(dir.path, 'writer.ts');
    const registryIndex = new URL('../../../src/cluster/registry/index.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { openRegistry } from ${JSON.stringify(registryIndex)};
const registry = await openRegistry({ dataDir: ${JSON.stringify(join(dir.path, 'data'))}, logger: { warn() {} } });
const cms = registry.lookup('', 'v1', 'configmaps');
let i = 0;
const big = 'x'.repeat(20000);
function burst() {
  for (let n = 0; n < 50; n++) registry.create(cms, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-' + i++ }, data: { big } });
  if (i === 200) process.stdout.write('ready\\n');
  setImmediate(burst);
}
burst();
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('writer never became ready')), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          setTimeout(resolve, 150);
        }
      });
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    t = await openTestRegistry({ dataDir: join(dir.path, 'data') });
    const items = t.registry.list(t.def('', 'v1', 'configmaps'), { namespace: 'default' }).items;
    expect(items.length).toBeGreaterThanOrEqual(150);
    for (const item of items) expect((item.data as { big: string }).big).toHaveLength(20000);
    const numbers = new Set(items.map((c) => Number(c.metadata.name?.slice(3))));
    for (let n = 0; n < numbers.size; n++) expect(numbers.has(n), `cm-${n} survives when a later one does`).toBe(true);
    expect(Number(t.registry.currentResourceVersion())).toBeGreaterThanOrEqual(items.length);
  });
});
