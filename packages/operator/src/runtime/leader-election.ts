/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it, so that of several
 * operator replicas exactly one reconciles:
 * - a candidate takes the Lease when it is free, released, or not renewed for its duration (as
 *   measured on the candidate's own clock from when it last saw the Lease change, so clock skew
 *   between replicas does not matter); every write is conditional on the resourceVersion read;
 * - the leader renews every `retryPeriodMs`; if it cannot renew for `renewDeadlineMs` (shorter
 *   than the lease duration) it steps down before anyone else may take over;
 * - `stop()` releases the Lease so a standby takes over at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CORE_RESOURCES, isAlreadyExists, isConflict, resourceClient, silentLogger, sleep, type KubeClient, type KubeLogger, type KubeObject, type ResourceClient } from '@opendepot/core';

/** A coordination.k8s.io/v1 Lease. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** Where an elector stands. */
export type ElectionState = 'idle' | 'standby' | 'leader' | 'stopped';

/** Options of {@link LeaderElector}. */
export interface LeaderElectionOptions {
  client: KubeClient;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** This replica; host name plus a random id by default. */
  identity?: string;
  /** How long a Lease stays valid without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it steps down. Default 10 s; must be shorter than the lease duration. */
  renewDeadlineMs?: number;
  /** Time between tries (candidates) and renewals (leader). Default 2 s. */
  retryPeriodMs?: number;
  /** This replica now leads: start the controllers. */
  onStartedLeading?: () => void;
  /**
   * This replica no longer leads: `lost` when it could not renew or another took over (stop
   * reconciling at once; exiting the process is the safe reaction), `released` on `stop()`.
   */
  onStoppedLeading?: (why: 'lost' | 'released') => void;
  /** Another (or no) replica holds the Lease now. */
  onNewLeader?: (identity: string | undefined) => void;
  logger?: KubeLogger;
}

type Attempt = 'acquired' | 'held' | 'failed';

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Campaigns for, holds and releases one Lease. */
export class LeaderElector {
  readonly identity: string;
  readonly #options: LeaderElectionOptions;
  readonly #leases: ResourceClient<Lease>;
  readonly #log: KubeLogger;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  #state: ElectionState = 'idle';
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  /** The Lease as last read or written, and when (on our clock) it was last seen to change. */
  #observed: Lease | undefined;
  #observedAt = 0;
  #leader: string | undefined;
  #leadingWaiters: (() => void)[] = [];

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.#leases = resourceClient<Lease>(options.client, CORE_RESOURCES.lease, { fieldManager: 'opendepot-leader-election' });
    this.#log = options.logger ?? silentLogger;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.#renewDeadlineMs >= this.#leaseDurationMs) throw new Error('renewDeadlineMs must be shorter than leaseDurationMs');
    if (this.#retryPeriodMs >= this.#renewDeadlineMs) throw new Error('retryPeriodMs must be shorter than renewDeadlineMs');
  }

  /** Where this elector stands. */
  get state(): ElectionState {
    return this.#state;
  }

  /** True while this replica holds the Lease. */
  isLeader(): boolean {
    return this.#state === 'leader';
  }

  /** The holder last observed (this replica or another), if any. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /** Starts campaigning. */
  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#state = 'standby';
    this.#loop = this.#run(this.#abort.signal);
  }

  /** Resolves once this replica leads (or at once when it does). */
  whenLeading(): Promise<void> {
    if (this.#state === 'leader') return Promise.resolve();
    return new Promise((resolve) => this.#leadingWaiters.push(resolve));
  }

  /** Stops campaigning and releases the Lease if held. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = undefined;
    const wasLeader = this.#state === 'leader';
    this.#state = 'stopped';
    if (wasLeader) {
      await this.#release();
      this.#options.onStoppedLeading?.('released');
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    let lastRenewed = 0;
    while (!signal.aborted) {
      if (this.#state !== 'leader') {
        const attempt = await this.#tryAcquireOrRenew(signal, this.#retryPeriodMs * 2);
        if (signal.aborted) break;
        if (attempt === 'acquired') {
          lastRenewed = Date.now();
          this.#state = 'leader';
          this.#log.info({ lease: this.#options.name, identity: this.identity }, 'became leader');
          for (const resolve of this.#leadingWaiters.splice(0)) resolve();
          this.#options.onStartedLeading?.();
          continue;
        }
        await sleep(this.#retryPeriodMs * (1 + Math.random() * 0.2), signal);
        continue;
      }
      await sleep(this.#retryPeriodMs, signal);
      if (signal.aborted) break;
      const remaining = this.#renewDeadlineMs - (Date.now() - lastRenewed);
      const attempt = remaining > 0 ? await this.#tryAcquireOrRenew(signal, remaining) : 'failed';
      if (signal.aborted) break;
      if (attempt === 'acquired') {
        lastRenewed = Date.now();
      } else if (attempt === 'held' || Date.now() - lastRenewed >= this.#renewDeadlineMs) {
        this.#state = 'standby';
        this.#log.warn({ lease: this.#options.name, identity: this.identity, holder: this.#leader }, 'lost leadership');
        this.#options.onStoppedLeading?.('lost');
      }
    }
  }

  /** One read-and-write round; never throws. */
  async #tryAcquireOrRenew(signal: AbortSignal, timeoutMs: number): Promise<Attempt> {
    const round = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, timeoutMs))]);
    const { namespace, name } = this.#options;
    const now = Date.now();
    try {
      const lease = await this.#leases.find(namespace, name, { signal: round });
      if (!lease) {
        const created = await this.#leases.create(
          {
            metadata: { name, namespace },
            spec: {
              holderIdentity: this.identity,
              leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          { signal: round },
        );
        this.#observe(created, Date.now());
        return 'acquired';
      }
      this.#observe(lease, now);
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity || undefined;
      const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.#leaseDurationMs / 1000)) * 1000;
      if (holder !== undefined && holder !== this.identity && this.#observedAt + durationMs > now) return 'held';
      const takingOver = holder !== this.identity;
      const updated = await this.#leases.replace(
        {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: this.identity,
            leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
            renewTime: microTime(now),
            acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
            leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
          },
        },
        { signal: round },
      );
      this.#observe(updated, Date.now());
      return 'acquired';
    } catch (err) {
      // A lost race (409) means someone else wrote first: the next round rereads.
      if (!isConflict(err) && !isAlreadyExists(err) && !signal.aborted) {
        this.#log.warn({ lease: name, err: err instanceof Error ? err.message : String(err) }, 'leader election round failed');
      }
      return 'failed';
    }
  }

  /** Records a read or written Lease; the observation clock restarts when its record changed. */
  #observe(lease: Lease, at: number): void {
    const before = this.#observed?.spec;
    const after = lease.spec;
    if (!before || before.holderIdentity !== after?.holderIdentity || before.renewTime !== after?.renewTime) this.#observedAt = at;
    this.#observed = lease;
    const holder = after?.holderIdentity || undefined;
    if (holder !== this.#leader) {
      this.#leader = holder;
      this.#options.onNewLeader?.(holder);
    }
  }

  /** Gives the Lease up so a standby can take it at once. */
  async #release(): Promise<void> {
    const lease = this.#observed;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    try {
      const now = microTime(Date.now());
      const released = await this.#leases.replace(
        { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
        { signal: AbortSignal.timeout(this.#renewDeadlineMs) },
      );
      this.#observe(released, Date.now());
      this.#log.info({ lease: this.#options.name, identity: this.identity }, 'released leadership');
    } catch (err) {
      this.#log.warn({ lease: this.#options.name, err: err instanceof Error ? err.message : String(err) }, 'could not release the lease; it expires on its own');
    }
  }
}
