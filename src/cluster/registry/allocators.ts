// Cluster IPs (10.96.0.0/12) and node ports (30000-32767) for Services. The allocation state is
// not persisted: it is rebuilt from the stored Services when the registry opens.
import { randomInt } from 'node:crypto';

export class AllocationError extends Error {}

export class ClusterIPAllocator {
  readonly cidr = '10.96.0.0/12';
  private readonly base = ipToNumber('10.96.0.0');
  private readonly size = 1 << 20;
  private readonly used = new Set<number>();

  /** The kubernetes Service's address, 10.96.0.1. */
  get first(): string {
    return numberToIP(this.base + 1);
  }

  isAllocated(ip: string): boolean {
    return this.used.has(ipToNumber(ip));
  }

  /** Takes a specific address; dryRun checks without taking. */
  allocate(ip: string, dryRun = false): void {
    const n = ipToNumber(ip);
    if (Number.isNaN(n) || n <= this.base || n >= this.base + this.size - 1)
      throw new AllocationError(`failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`);
    if (this.used.has(n)) throw new AllocationError(`failed to allocate IP ${ip}: provided IP is already allocated`);
    if (!dryRun) this.used.add(n);
  }

  /** A free address from the upper part of the range (the lower band is for static choices, as upstream). */
  allocateNext(dryRun = false): string {
    const lowerBand = Math.min(Math.max(16, this.size / 16), 256);
    for (let attempt = 0; attempt < 64; attempt++) {
      const n = this.base + lowerBand + randomInt(this.size - lowerBand - 1);
      if (!this.used.has(n)) {
        if (!dryRun) this.used.add(n);
        return numberToIP(n);
      }
    }
    for (let n = this.base + 2; n < this.base + this.size - 1; n++) {
      if (!this.used.has(n)) {
        if (!dryRun) this.used.add(n);
        return numberToIP(n);
      }
    }
    throw new AllocationError('failed to allocate a serviceIP: range is full');
  }

  release(ip: string): void {
    this.used.delete(ipToNumber(ip));
  }
}

export class NodePortAllocator {
  readonly min = 30000;
  readonly max = 32767;
  private readonly used = new Set<number>();

  allocate(port: number, dryRun = false): void {
    if (!Number.isInteger(port) || port < this.min || port > this.max)
      throw new AllocationError(`provided port is not in the valid range. The range of valid ports is ${this.min}-${this.max}`);
    if (this.used.has(port)) throw new AllocationError('provided port is already allocated');
    if (!dryRun) this.used.add(port);
  }

  /**
   * A random free port, from the upper band first: as upstream's port allocator (static subrange,
   * GA in 1.29), the lowest min(max(16, size/32), 128) ports are left for services that ask for a
   * port, so a chosen port rarely collides with an allocated one.
   */
  allocateNext(dryRun = false): number {
    const span = this.max - this.min + 1;
    const offset = Math.min(Math.max(16, Math.floor(span / 32)), 128);
    for (const [from, size] of [[this.min + offset, span - offset], [this.min, offset]] as const) {
      const start = randomInt(size);
      for (let i = 0; i < size; i++) {
        const port = from + ((start + i) % size);
        if (!this.used.has(port)) {
          if (!dryRun) this.used.add(port);
          return port;
        }
      }
    }
    throw new AllocationError('range is full');
  }

  isAllocated(port: number): boolean {
    return this.used.has(port);
  }

  release(port: number): void {
    this.used.delete(port);
  }
}

export interface Allocators {
  clusterIPs: ClusterIPAllocator;
  nodePorts: NodePortAllocator;
}

export function createAllocators(): Allocators {
  return { clusterIPs: new ClusterIPAllocator(), nodePorts: new NodePortAllocator() };
}

function ipToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return Number.NaN;
  let n = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return Number.NaN;
    const octet = Number(part);
    if (octet > 255) return Number.NaN;
    n = n * 256 + octet;
  }
  return n;
}

function numberToIP(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
