/**
 * A worker's side of a cluster-wide scrape (node:cluster). Every worker has its own registry, and
 * the primary hands each incoming connection to one of them, so a scrape answered from the local
 * registry alone would see a different worker's counters each time. A `ClusterMetricsScrape`
 * shares a registry with the primary (`aggregateClusterMetrics()` runs there) and, when a scrape
 * arrives, asks the primary for the merge of every worker's registry of the same name
 * (metrics-snapshot-merge.ts has the rules; cluster-metrics-protocol.ts the messages).
 *
 * Bounded: the primary answers once every worker has, or after `timeout` with the workers that
 * had. Should the primary itself not answer within `timeout` plus half a second (no aggregator
 * there, or it is stuck), the scrape shows this worker's metrics alone, and the process warns
 * once (`AVX_METRICS_CLUSTER_NO_PRIMARY`).
 */
import cluster from 'node:cluster';
import { defaultTimerWheel, type TimerHandle } from '../../runtime/timer-wheel.js';
import { ClusterMetricsError } from './cluster-metrics-error.js';
import {
  type ClusterMetricsMessage,
  decodeSnapshot,
  encodeContribution,
  isClusterMetricsMessage,
} from './cluster-metrics-protocol.js';
import type { MetricsRegistry } from './metrics-registry.js';
import type { MetricsSnapshot } from './metrics-snapshot.js';
import { contributionOf } from './metrics-snapshot-merge.js';

/** Options of {@link ClusterMetricsScrape} (and of `metrics({ cluster })`). */
export interface ClusterMetricsOptions {
  /**
   * The registry's name across the cluster: a scrape merges the registries shared under this
   * name by every worker. Default `'default'`.
   */
  name?: string;
  /**
   * How long the primary waits for the other workers' metrics, in ms; the scrape then answers
   * with the workers that replied. Default 2000.
   */
  timeout?: number;
}

/** Default of {@link ClusterMetricsOptions.timeout}, in ms. */
export const DEFAULT_CLUSTER_SCRAPE_TIMEOUT = 2000;

/** How much longer than `timeout` a worker waits for the primary's own answer, in ms. */
const PRIMARY_GRACE = 500;

/** A registry shared with the cluster's primary for cluster-wide scrapes (see the file comment). */
export class ClusterMetricsScrape {
  /** The registry's name across the cluster. */
  readonly name: string;
  /** How long the primary waits for the other workers, in ms. */
  readonly timeout: number;
  private readonly channel: WorkerMetricsChannel;
  private closed = false;

  /**
   * Shares `registry` under `options.name`. Throws `AVX_METRICS_CLUSTER_NOT_WORKER` outside a
   * cluster worker, `AVX_METRICS_CLUSTER_NAME_TAKEN` when another registry has the name here,
   * and `AVX_METRICS_CLUSTER_INVALID_TIMEOUT` unless `timeout` is a positive number.
   */
  constructor(
    readonly registry: MetricsRegistry,
    options: ClusterMetricsOptions = {},
  ) {
    this.name = options.name ?? 'default';
    this.timeout = options.timeout ?? DEFAULT_CLUSTER_SCRAPE_TIMEOUT;
    if (!(this.timeout > 0 && this.timeout < Number.POSITIVE_INFINITY)) {
      throw new ClusterMetricsError(
        'AVX_METRICS_CLUSTER_INVALID_TIMEOUT',
        this.name,
        `timeout must be a positive number of milliseconds; got ${this.timeout}`,
      );
    }
    if (!ClusterMetricsScrape.available) {
      throw new ClusterMetricsError(
        'AVX_METRICS_CLUSTER_NOT_WORKER',
        this.name,
        'only a node:cluster worker can share its registry with the primary',
      );
    }
    workerChannel ??= new WorkerMetricsChannel();
    this.channel = workerChannel;
    this.channel.share(this.name, registry);
  }

  /** True in a node:cluster worker with an IPC channel to its primary. */
  static get available(): boolean {
    return cluster.isWorker && typeof process.send === 'function';
  }

  /**
   * The merge of every worker's registry of this name (this worker's included), or this
   * worker's alone if the primary does not answer in time. Never rejects.
   */
  snapshot(): Promise<MetricsSnapshot> {
    return this.channel.scrape(this.name, this.registry, this.timeout);
  }

  /** Stops sharing the registry: collections from now on get nothing from this worker. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.unshare(this.name, this.registry);
  }
}

/** A scrape waiting for the primary's merge. */
interface PendingScrape {
  readonly id: number;
  readonly resolve: (snapshot: MetricsSnapshot) => void;
  /** This worker's own snapshot: the answer if the primary does not give one. */
  readonly own: MetricsSnapshot;
  readonly waitedMs: number;
  timer: TimerHandle | undefined;
}

/**
 * The process's one endpoint of the protocol (a worker has one IPC channel): the shared
 * registries by name, and the scrapes waiting for the primary. It listens for as long as the
 * process lives, so that a collection for a name no longer shared still gets its (empty) answer
 * at once instead of costing the scrape its timeout.
 */
class WorkerMetricsChannel {
  private readonly registries = new Map<string, MetricsRegistry>();
  private readonly scrapes = new Map<number, PendingScrape>();
  private nextId = 0;
  private warned = false;

  constructor() {
    process.on('message', (message: unknown) => {
      if (isClusterMetricsMessage(message)) this.receive(message);
    });
    sendToPrimary({ type: 'avx:metrics:ready' }, () => {});
  }

  share(name: string, registry: MetricsRegistry): void {
    const taken = this.registries.get(name);
    if (taken !== undefined && taken !== registry) {
      throw new ClusterMetricsError(
        'AVX_METRICS_CLUSTER_NAME_TAKEN',
        name,
        'another registry of this worker is shared under this name; pass a different cluster name',
      );
    }
    this.registries.set(name, registry);
  }

  unshare(name: string, registry: MetricsRegistry): void {
    if (this.registries.get(name) === registry) this.registries.delete(name);
  }

  scrape(name: string, registry: MetricsRegistry, timeout: number): Promise<MetricsSnapshot> {
    const id = ++this.nextId;
    const own = contributionOf(registry);
    return new Promise<MetricsSnapshot>((resolve) => {
      const waitedMs = timeout + PRIMARY_GRACE;
      const pending: PendingScrape = { id, resolve, own: own.snapshot, waitedMs, timer: undefined };
      this.scrapes.set(id, pending);
      pending.timer = defaultTimerWheel().schedule(waitedMs, this.giveUp, pending);
      sendToPrimary(
        { type: 'avx:metrics:scrape', id, name, timeout, own: encodeContribution(own) },
        // The channel is closed (the primary is gone): answer alone at once.
        () => this.settle(pending, pending.own),
      );
    });
  }

  private receive(message: ClusterMetricsMessage): void {
    if (message.type === 'avx:metrics:merged') {
      const pending = this.scrapes.get(message.id);
      // Unknown: an answer that came after this worker gave up on it.
      if (pending !== undefined) this.settle(pending, decodeSnapshot(message.snapshot));
    } else if (message.type === 'avx:metrics:collect') {
      const registry = this.registries.get(message.name);
      const contribution = registry === undefined ? null : encodeContribution(contributionOf(registry));
      sendToPrimary({ type: 'avx:metrics:contribution', id: message.id, contribution }, () => {});
    }
  }

  private settle(pending: PendingScrape, snapshot: MetricsSnapshot): void {
    if (!this.scrapes.delete(pending.id)) return;
    pending.timer?.cancel();
    pending.resolve(snapshot);
  }

  /** The primary did not answer in time (a wheel callback: no closure per scrape). */
  private readonly giveUp = (pending: PendingScrape): void => {
    if (!this.warned) {
      this.warned = true;
      process.emitWarning(
        `no answer from the cluster primary within ${pending.waitedMs} ms: this scrape shows this worker's metrics only (is aggregateClusterMetrics() running in the primary?)`,
        { code: 'AVX_METRICS_CLUSTER_NO_PRIMARY' },
      );
    }
    this.settle(pending, pending.own);
  };
}

let workerChannel: WorkerMetricsChannel | undefined;

/** Sends `message` to the primary; `onError` runs if it cannot be sent. */
function sendToPrimary(message: ClusterMetricsMessage, onError: () => void): void {
  try {
    // With a callback, a closed channel is reported to it rather than emitted as an 'error'
    // event on `process`, which would crash a worker that has no listener for it.
    process.send!(message, undefined, undefined, (error: Error | null) => {
      if (error !== null) onError();
    });
  } catch {
    onError();
  }
}
