// DNS on the wire (RFC 1035), only as much as the cluster DNS answers: one question; A, AAAA,
// CNAME, SRV, PTR (in-addr.arpa, as kubeadm's Corefile serves it) and SOA records; compression pointers read but never written. The answers follow
// CoreDNS's kubernetes plugin: names of the cluster zone that do not exist get NXDOMAIN with the
// zone's SOA; existing names asked for a type they lack get an empty NOERROR with the SOA.
import type { DnsEntry } from './node-network.ts';

export const ZONE = 'cluster.local';
const TTL = 30;
const TYPE = { A: 1, CNAME: 5, SOA: 6, PTR: 12, AAAA: 28, SRV: 33 } as const;
const REVERSE = 'in-addr.arpa';
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

export interface Question {
  id: number;
  flags: number;
  name: string;
  type: number;
  klass: number;
  /** The question section as it came, echoed in the answer. */
  raw: Buffer;
}

/** The question of a query, or undefined for a packet that is not one. */
export function parseQuery(packet: Buffer): Question | undefined {
  if (packet.length < 12) return undefined;
  const flags = packet.readUInt16BE(2);
  if (flags & 0x8000 || packet.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (let guard = 0; guard < 128; guard++) {
    const length = packet[offset];
    if (length === undefined || length > 63) return undefined;
    offset += 1;
    if (length === 0) break;
    if (offset + length > packet.length) return undefined;
    labels.push(packet.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > packet.length) return undefined;
  const type = packet.readUInt16BE(offset);
  const klass = packet.readUInt16BE(offset + 2);
  return { id: packet.readUInt16BE(0), flags, name: labels.join('.').toLowerCase(), type, klass, raw: packet.subarray(12, offset + 4) };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((part) => part.length > 0);
  return Buffer.concat([...parts.map((part) => Buffer.concat([Buffer.from([part.length]), Buffer.from(part, 'latin1')])), Buffer.from([0])]);
}

function record(name: string, type: number, data: Buffer, ttl = TTL): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt32BE(ttl, 4);
  head.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(name), head, data]);
}

function ipv4(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function soa(): Buffer {
  const numbers = Buffer.alloc(20);
  const serial = Math.floor(Date.now() / 1000);
  [serial, 7200, 1800, 86400, TTL].forEach((value, i) => numbers.writeUInt32BE(value >>> 0, i * 4));
  return record(ZONE, TYPE.SOA, Buffer.concat([encodeName(`ns.dns.${ZONE}`), encodeName(`hostmaster.${ZONE}`), numbers]), TTL);
}

function message(question: Question, rcode: number, answers: Buffer[], authority: Buffer[], authoritative: boolean): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(question.id, 0);
  // QR, the query's opcode and RD echoed, AA for the cluster zone, RA as CoreDNS sets it.
  head.writeUInt16BE(0x8000 | (question.flags & 0x7900) | (authoritative ? 0x0400 : 0) | 0x0080 | rcode, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  head.writeUInt16BE(authority.length, 8);
  return Buffer.concat([head, question.raw, ...answers, ...authority]);
}

/** Names of the zone: the records the kubelet keeps, then `a-b-c-d.<ns>.pod.cluster.local` (CoreDNS `pods insecure`). */
function lookup(records: ReadonlyMap<string, DnsEntry>, name: string): DnsEntry | undefined {
  const entry = records.get(name);
  if (entry) return entry;
  const pod = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.[a-z0-9-]+\.pod\.cluster\.local$/.exec(name);
  if (pod && pod.slice(1, 5).every((octet) => Number(octet) <= 255)) return { a: [pod.slice(1, 5).join('.')] };
  return undefined;
}

/** The cluster zone as the agent holds it: the records, and every name that exists (with its parents). */
export interface Zone {
  records: ReadonlyMap<string, DnsEntry>;
  names: ReadonlySet<string>;
}

export function zoneOf(records: Record<string, DnsEntry>): Zone {
  const names = new Set<string>([ZONE]);
  for (const name of Object.keys(records)) {
    const labels = name.split('.');
    for (let i = 0; i < labels.length - 2; i++) names.add(labels.slice(i).join('.'));
  }
  return { records: new Map(Object.entries(records)), names };
}

/** The answer to one query (names lower case, no trailing dot). */
export function answer(question: Question, zone: Zone): Buffer {
  if ((question.flags >> 11) & 0xf) return message(question, RCODE.NOTIMP, [], [], false);
  const name = question.name;
  if (name !== ZONE && !name.endsWith(`.${ZONE}`) && !name.endsWith(`.${REVERSE}`)) {
    // No upstream resolver: the cluster has no way out, as CoreDNS whose forward fails.
    return message(question, RCODE.SERVFAIL, [], [], false);
  }
  const entry = lookup(zone.records, name);
  const exists = entry !== undefined || zone.names.has(name);
  if (!exists) return message(question, RCODE.NXDOMAIN, [], [soa()], true);
  const answers: Buffer[] = [];
  if (entry?.cname) {
    answers.push(record(name, TYPE.CNAME, encodeName(entry.cname)));
  } else if (question.type === TYPE.A) {
    for (const ip of entry?.a ?? []) answers.push(record(name, TYPE.A, ipv4(ip)));
  } else if (question.type === TYPE.SRV) {
    for (const srv of entry?.srv ?? []) {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(0, 0);
      fixed.writeUInt16BE(100, 2);
      fixed.writeUInt16BE(srv.port, 4);
      answers.push(record(name, TYPE.SRV, Buffer.concat([fixed, encodeName(srv.target)])));
    }
  } else if (question.type === TYPE.PTR && entry?.ptr) {
    answers.push(record(name, TYPE.PTR, encodeName(entry.ptr)));
  } else if (question.type === TYPE.SOA && name === ZONE) {
    answers.push(soa());
  }
  return message(question, RCODE.NOERROR, answers, answers.length === 0 ? [soa()] : [], true);
}

/** The answer to a packet that is no query we can read. */
export function formatError(packet: Buffer): Buffer | undefined {
  if (packet.length < 12) return undefined;
  const head = Buffer.from(packet.subarray(0, 12));
  head.writeUInt16BE(0x8000 | RCODE.FORMERR, 2);
  head.fill(0, 4);
  return head;
}
