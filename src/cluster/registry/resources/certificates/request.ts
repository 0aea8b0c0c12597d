// A PKCS#10 certificate request read as Go's certificates.ParseCSR and CheckSignature read it:
// the first PEM block must be a CERTIFICATE REQUEST, its DER well formed, its signature made by
// the key it carries. Synchronous (a strategy validates synchronously): a small DER reader and
// node:crypto's verify, no library.
import { createPublicKey, verify } from 'node:crypto';

export interface CertificateRequest {
  /** The subject's commonName (the user a client certificate names) and organizations (its groups). */
  commonName: string;
  organizations: string[];
  /** DER of the whole request. */
  der: Buffer;
}

export class RequestError extends Error {}

interface Node {
  tag: number;
  /** where the element starts (its tag), where its content starts and ends */
  at: number;
  start: number;
  end: number;
}

const malformed = () => new RequestError('x509: malformed certificate request');

function read(der: Buffer, at: number, limit: number): Node {
  if (at + 2 > limit) throw malformed();
  const tag = der[at] as number;
  let length = der[at + 1] as number;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw malformed();
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] as number);
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw malformed();
  return { tag, at, start, end };
}

function children(der: Buffer, node: Node): Node[] {
  const found: Node[] = [];
  for (let at = node.start; at < node.end; ) {
    const child = read(der, at, node.end);
    found.push(child);
    at = child.end;
  }
  return found;
}

function expect(node: Node | undefined, tag: number): Node {
  if (!node || node.tag !== tag) throw malformed();
  return node;
}

function oid(der: Buffer, node: Node): string {
  const bytes = der.subarray(node.start, node.end);
  if (bytes.length === 0) throw malformed();
  const first = bytes[0] as number;
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const BIT_STRING = 0x03;
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';

/** The hash each signature algorithm uses (null: the algorithm hashes itself, Ed25519). */
const signatureHashes: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

/** The first PEM block's type and bytes, as encoding/pem.Decode finds it. */
function firstPemBlock(text: string): { type: string; der: Buffer } | undefined {
  const match = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return undefined;
  const body = (match[2] as string).split(/\r?\n/).filter((line) => !line.includes(':'));
  return { type: match[1] as string, der: Buffer.from(body.join(''), 'base64') };
}

export function parseCertificateRequest(pem: string): CertificateRequest {
  const block = firstPemBlock(pem);
  if (!block || block.type !== 'CERTIFICATE REQUEST') throw new RequestError('PEM block type must be CERTIFICATE REQUEST');
  const der = block.der;
  const top = expect(read(der, 0, der.length), SEQUENCE);
  if (top.end !== der.length) throw malformed();
  const [info, algorithm, signature] = children(der, top);
  expect(info, SEQUENCE);
  const [, subject, publicKeyInfo] = children(der, info as Node);
  const algorithmOid = oid(der, expect(children(der, expect(algorithm, SEQUENCE))[0], OID));
  const signatureBits = expect(signature, BIT_STRING);

  let commonName = '';
  const organizations: string[] = [];
  for (const rdn of children(der, expect(subject, SEQUENCE))) {
    for (const attribute of children(der, expect(rdn, SET))) {
      const [type, value] = children(der, expect(attribute, SEQUENCE));
      if (!value) throw malformed();
      const text = der.subarray(value.start, value.end).toString('utf8');
      const name = oid(der, expect(type, OID));
      if (name === COMMON_NAME) commonName = text;
      if (name === ORGANIZATION) organizations.push(text);
    }
  }

  const spki = expect(publicKeyInfo, SEQUENCE);
  const hash = signatureHashes[algorithmOid];
  if (hash === undefined) throw new RequestError('x509: cannot verify signature: algorithm unimplemented');
  let key;
  try {
    key = createPublicKey({ key: der.subarray(spki.at, spki.end), format: 'der', type: 'spki' });
  } catch {
    throw new RequestError('x509: unsupported public key type');
  }
  const signed = der.subarray((info as Node).at, (info as Node).end);
  const bits = der.subarray(signatureBits.start + 1, signatureBits.end);
  let valid = false;
  try {
    valid = verify(hash, signed, key, bits);
  } catch {
    valid = false;
  }
  if (!valid) throw new RequestError(key.asymmetricKeyType === 'ec' ? 'x509: ECDSA verification failure' : 'crypto/rsa: verification error');
  return { commonName, organizations, der };
}
