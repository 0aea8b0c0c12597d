// The node network's agent: a process of its own in the node's network namespace (the kubelet
// makes it with `unshare --net` and it holds that namespace). It serves what a node and the
// cluster add-ons serve on the pod network: the cluster DNS (CoreDNS's answers, UDP and TCP 53 on
// the kube-dns cluster IP) and the API server's `kubernetes` Service, carried to the kubelet's
// Unix socket. The kubelet talks to it by JSON lines on stdin: first where to listen, then the
// zone's records whenever Services or pods change. It says `up` once started and `listening`
// once it serves.
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { answer, formatError, parseQuery, type Zone, zoneOf } from './dns-message.ts';
import type { AgentListen, AgentMessage } from './node-network.ts';

let zone: Zone = zoneOf({});

function reply(packet: Buffer): Buffer | undefined {
  const question = parseQuery(packet);
  return question ? answer(question, zone) : formatError(packet);
}

function listenTcp(server: Server, ip: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ip, port }, () => resolve());
  });
}

async function listen(config: AgentListen): Promise<void> {
  const udp = createSocket('udp4');
  udp.on('message', (packet, from) => {
    const out = reply(packet);
    if (out) udp.send(out, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(53, config.dns, () => resolve());
  });
  // DNS over TCP: each message with a two-byte length in front.
  const tcp = createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const out = reply(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        if (!out) continue;
        const size = Buffer.alloc(2);
        size.writeUInt16BE(out.length);
        socket.write(Buffer.concat([size, out]));
      }
      if (pending.length > 65_537) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
  });
  await listenTcp(tcp, config.dns, 53);
  for (const forward of config.forwards) {
    const server = createServer((client) => {
      const upstream = connect(forward.unixSocket);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await listenTcp(server, forward.ip, forward.port);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const message = JSON.parse(line) as AgentMessage;
  if (message.type === 'records') zone = zoneOf(message.records);
  else
    listen(message).then(
      () => process.stdout.write('listening\n'),
      (error: unknown) => process.stdout.write(`failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
});
// The kubelet is gone: so is the node's network.
lines.on('close', () => process.exit(0));
process.stdout.write('up\n');
