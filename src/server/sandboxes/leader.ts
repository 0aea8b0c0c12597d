// One leader among the portal's replicas, for the work that must run once (the reaper, the warm
// pool): a coordination.k8s.io Lease, taken and renewed as client-go's leaderelection does. The
// holder writes holderIdentity, leaseDurationSeconds, acquireTime and renewTime; a candidate takes
// the Lease only after it has seen the same record unchanged for leaseDurationSeconds on its own
// clock (so clocks that disagree between machines do not matter), and every write carries the
// resourceVersion it read, so of two candidates exactly one wins.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { statusCode, type KubeClient, type KubeObject } from '../../labs/index.ts';

export interface LeaderElectionOptions {
  client: KubeClient;
  /** The portal's own namespace (in a pod: its service account's). */
  namespace: string;
  name: string;
  /** Unique per replica; default hostname_uuid, as client-go's callers use. */
  identity?: string;
  /** How long a leader that stops renewing keeps the Lease. Default 15 s (client-go's default). */
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long stops leading before anyone else may take over. Default 10 s. */
  renewDeadlineMs?: number;
  /** How often to try to take or renew the Lease. Default 2 s. */
  retryPeriodMs?: number;
  /** Now, for the Lease's timestamps and expiry. */
  now?: () => number;
  onError?: (error: unknown) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** metav1.MicroTime's wire form: RFC 3339 with six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElection {
  readonly identity: string;
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #leaseSeconds: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  /** The holder's record as last read, and when (on this clock) it last changed. */
  #observed: { record: string; at: number } | null = null;
  /** When this replica last wrote the Lease as its holder; null when it does not lead. */
  #renewedAt: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #trying: Promise<boolean> | null = null;

  constructor(options: LeaderElectionOptions) {
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.#leaseSeconds = options.leaseDurationSeconds ?? 15;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    if (this.#renewDeadlineMs >= this.#leaseSeconds * 1000) throw new Error('the renew deadline must be shorter than the lease duration');
  }

  /** True while this replica holds the Lease and renewed it within the renew deadline. */
  get leading(): boolean {
    return this.#renewedAt !== null && this.#now() - this.#renewedAt < this.#renewDeadlineMs;
  }

  #path(name = this.#name): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  /** One round of client-go's tryAcquireOrRenew; true when this replica leads afterwards. */
  tryAcquireOrRenew(): Promise<boolean> {
    this.#trying ??= this.#attempt()
      .catch((error: unknown) => {
        this.#onError(error);
        return this.leading;
      })
      .finally(() => (this.#trying = null));
    return this.#trying;
  }

  async #attempt(): Promise<boolean> {
    const now = this.#now();
    const mine: LeaseSpec = { holderIdentity: this.identity, leaseDurationSeconds: this.#leaseSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
    let lease: KubeObject;
    try {
      lease = await this.#client.api.request<KubeObject>('GET', this.#path());
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
      try {
        await this.#client.api.request('POST', this.#path(''), {
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#name, namespace: this.#namespace }, spec: mine },
        });
      } catch (created) {
        if (statusCode(created) === 409) return false; // another replica created it first
        throw created;
      }
      this.#renewedAt = now;
      this.#observed = { record: JSON.stringify(mine), at: now };
      return true;
    }
    const held = (lease.spec ?? {}) as LeaseSpec;
    const record = JSON.stringify(held);
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const heldByMe = held.holderIdentity === this.identity;
    const heldByOther = !heldByMe && Boolean(held.holderIdentity);
    const duration = (held.leaseDurationSeconds ?? this.#leaseSeconds) * 1000;
    if (heldByOther && this.#observed.at + duration > now) {
      this.#renewedAt = null;
      return false;
    }
    const next: LeaseSpec = heldByMe
      ? { ...held, leaseDurationSeconds: this.#leaseSeconds, renewTime: microTime(now) }
      : { ...mine, leaseTransitions: (held.leaseTransitions ?? 0) + 1 };
    try {
      await this.#client.api.request('PUT', this.#path(), { body: { ...lease, spec: next } });
    } catch (error) {
      // 409: someone else wrote it since we read it; they lead.
      if (statusCode(error) === 409) {
        this.#renewedAt = null;
        return false;
      }
      throw error;
    }
    this.#renewedAt = now;
    this.#observed = { record: JSON.stringify(next), at: now };
    return true;
  }

  /** Tries at once, then every retry period, until stop(). */
  start(): void {
    if (this.#timer) return;
    void this.tryAcquireOrRenew();
    this.#timer = setInterval(() => void this.tryAcquireOrRenew(), this.#retryMs);
    this.#timer.unref();
  }

  /**
   * Stops trying; a leader gives the Lease up (holder cleared, duration 1 s, as client-go's
   * ReleaseOnCancel), so the next replica takes over at its next try instead of after the lease expires.
   */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#trying;
    if (!this.leading) return;
    this.#renewedAt = null;
    try {
      const lease = await this.#client.api.request<KubeObject>('GET', this.#path());
      const held = (lease.spec ?? {}) as LeaseSpec;
      if (held.holderIdentity !== this.identity) return;
      const now = microTime(this.#now());
      await this.#client.api.request('PUT', this.#path(), {
        body: { ...lease, spec: { leaseTransitions: held.leaseTransitions ?? 0, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
      });
    } catch (error) {
      if (statusCode(error) !== 404 && statusCode(error) !== 409) this.#onError(error);
    }
  }
}
