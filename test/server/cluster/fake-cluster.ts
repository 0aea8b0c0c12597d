// Stands in for `formicary cluster` in the supervisor's tests until the real CLI exists: logs a
// little, writes a kubeconfig, says `ready`, and then misbehaves as told.
//   node fake-cluster.ts --kubeconfig F --port N [--ready-after MS] [--never-ready]
//                        [--die-after MS] [--ignore-sigterm] [--json-logs] [--starts-file F]

import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    data: { type: 'string' },
    port: { type: 'string' },
    'ready-after': { type: 'string', default: '50' },
    'never-ready': { type: 'boolean', default: false },
    'die-after': { type: 'string' },
    'ignore-sigterm': { type: 'boolean', default: false },
    'json-logs': { type: 'boolean', default: false },
    'starts-file': { type: 'string' },
  },
});

if (values['starts-file']) appendFileSync(values['starts-file'], `${process.pid} ${values.port}\n`);
if (values['json-logs']) process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: 'etcd is slow today', shard: 3 })}\n`);
else process.stdout.write('loading state\n');
process.stderr.write('a warning on stderr\n');

const port = Number(values.port);
const server = createServer((_req, res) => res.end('{"major":"1"}')).listen(port, '127.0.0.1', () => {
  if (values.kubeconfig) {
    writeFileSync(
      values.kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: fake, cluster: {server: "https://127.0.0.1:' + port + '"}}]',
        'users: [{name: admin, user: {token: fake-token}}]',
        'contexts: [{name: fake, context: {cluster: fake, user: admin}}]',
        'current-context: fake',
        '',
      ].join('\n'),
    );
  }
  if (!values['never-ready']) setTimeout(() => process.stdout.write(`cluster ready at https://127.0.0.1:${port}\n`), Number(values['ready-after']));
  if (values['die-after']) setTimeout(() => process.exit(3), Number(values['die-after']));
});

process.on('SIGTERM', () => {
  if (values['ignore-sigterm']) return;
  server.close();
  process.exit(0);
});
