/**
 * The primary's side of a cluster-wide scrape (node:cluster). A worker that received a scrape
 * sends its own metrics and asks for everyone's (cluster-metrics-scrape.ts); the aggregator
 * asks every other worker that shares metrics for its registry of the same name, merges the
 * answers (metrics-snapshot-merge.ts) and replies to the asking worker, once all have answered
 * or `timeout` (the asking worker's) has passed, whichever comes first. A worker that exits
 * meanwhile is not waited for. Each scrape is a collection of its own, told apart by its id,
 * so concurrent scrapes never mix.
 *
 * The merge also carries the aggregator's own registry: `avx_metrics_cluster_workers{state}`
 * says how many workers this scrape includes (`replied`) and lacks (`missing`), and
 * `avx_metrics_cluster_missed_replies_total` counts the workers that did not answer a scrape,
 * since the primary started. A scrape that timed out on some worker is also logged.
 *
 * Run it in the primary before forking the workers (`avx serve` does): a worker announces
 * itself once, when it first shares a registry.
 */
import cluster, { type Worker } from 'node:cluster';
import { defaultTimerWheel, type TimerHandle } from '../../runtime/timer-wheel.js';
import {
  type ClusterMetricsMessage,
  type ContributionMessage,
  decodeContribution,
  encodeSnapshot,
  isClusterMetricsMessage,
  type ScrapeMessage,
} from './cluster-metrics-protocol.js';
import type { Counter } from './counter.js';
import type { Gauge } from './gauge.js';
import { MetricsRegistry } from './metrics-registry.js';
import { contributionOf, type MetricsContribution, mergeMetricsSnapshots } from './metrics-snapshot-merge.js';

/** Options of {@link aggregateClusterMetrics}. */
export interface ClusterMetricsAggregatorOptions {
  /** Where a scrape that timed out on some workers is logged. Default: console.error. */
  log?: (line: string) => void;
}

/** One scrape being answered: the contributions so far and the workers still asked. */
interface Collection {
  readonly id: number;
  readonly requester: Worker;
  readonly scrape: ScrapeMessage;
  /** By worker id. */
  readonly contributions: Map<number, MetricsContribution>;
  /** Ids of the workers asked that have not answered. */
  readonly waiting: Set<number>;
  /** Workers asked that exited before answering. */
  exited: number;
  timer: TimerHandle | undefined;
}

/** The primary's end of cluster-wide scrapes (see the file comment). */
export class ClusterMetricsAggregator {
  /**
   * The primary's own families, merged into every cluster scrape (after the workers'). Holds
   * the two families of the file comment; the primary's own instruments may go here too.
   */
  readonly registry = new MetricsRegistry();
  private readonly workersGauge: Gauge;
  private readonly missedReplies: Counter;
  private readonly log: (line: string) => void;
  /** Workers that share metrics, by id. */
  private readonly sharing = new Map<number, Worker>();
  private readonly collections = new Map<number, Collection>();
  private nextId = 0;
  private readonly listening: boolean;

  constructor(options: ClusterMetricsAggregatorOptions = {}) {
    this.log = options.log ?? ((line: string) => console.error(line));
    this.workersGauge = this.registry.gauge({
      name: 'avx_metrics_cluster_workers',
      help: 'Workers whose metrics this cluster-wide scrape includes (replied) or lacks (missing: no answer in time, or exited)',
      labelNames: ['state'],
    });
    this.missedReplies = this.registry.counter({
      name: 'avx_metrics_cluster_missed_replies_total',
      help: 'Workers that did not answer a cluster-wide scrape in time or exited first, over all scrapes',
    });
    // A worker runs the same script: there the aggregator stays idle.
    this.listening = cluster.isPrimary;
    if (this.listening) {
      cluster.on('message', this.onMessage);
      cluster.on('exit', this.onExit);
    }
  }

  /** Stops listening; scrapes still being collected are answered at once with what they have. */
  close(): void {
    if (!this.listening) return;
    cluster.off('message', this.onMessage);
    cluster.off('exit', this.onExit);
    for (const collection of [...this.collections.values()]) this.finish(collection, []);
    this.sharing.clear();
  }

  private readonly onMessage = (worker: Worker, message: unknown): void => {
    if (!isClusterMetricsMessage(message)) return;
    switch (message.type) {
      case 'avx:metrics:ready':
        this.sharing.set(worker.id, worker);
        break;
      case 'avx:metrics:scrape':
        this.sharing.set(worker.id, worker);
        this.collect(worker, message);
        break;
      case 'avx:metrics:contribution':
        this.receive(worker, message);
        break;
      default:
        // The primary's own messages, never sent to it.
        break;
    }
  };

  private readonly onExit = (worker: Worker): void => {
    this.sharing.delete(worker.id);
    for (const collection of [...this.collections.values()]) {
      if (!collection.waiting.delete(worker.id)) continue;
      collection.exited++;
      if (collection.waiting.size === 0) this.finish(collection, []);
    }
  };

  private collect(requester: Worker, scrape: ScrapeMessage): void {
    const collection: Collection = {
      id: ++this.nextId,
      requester,
      scrape,
      contributions: new Map([[requester.id, decodeContribution(scrape.own)]]),
      waiting: new Set(),
      exited: 0,
      timer: undefined,
    };
    this.collections.set(collection.id, collection);
    const ask: ClusterMetricsMessage = { type: 'avx:metrics:collect', id: collection.id, name: scrape.name };
    for (const worker of this.sharing.values()) {
      if (worker === requester || !worker.isConnected()) continue;
      collection.waiting.add(worker.id);
      sendToWorker(worker, ask, () => this.onExit(worker));
    }
    if (collection.waiting.size === 0) this.finish(collection, []);
    else collection.timer = defaultTimerWheel().schedule(scrape.timeout, this.expire, collection);
  }

  private receive(worker: Worker, message: ContributionMessage): void {
    const collection = this.collections.get(message.id);
    // Unknown or not waited for: an answer that came after its scrape was answered.
    if (collection === undefined || !collection.waiting.delete(worker.id)) return;
    if (message.contribution !== null) {
      collection.contributions.set(worker.id, decodeContribution(message.contribution));
    }
    if (collection.waiting.size === 0) this.finish(collection, []);
  }

  /** The timeout of a collection passed (a wheel callback: no closure per scrape). */
  private readonly expire = (collection: Collection): void => {
    const late = [...collection.waiting];
    collection.waiting.clear();
    this.finish(collection, late);
  };

  /** Answers the scrape with the contributions so far; `late` are the ids that timed out. */
  private finish(collection: Collection, late: readonly number[]): void {
    if (!this.collections.delete(collection.id)) return;
    collection.timer?.cancel();
    const missing = late.length + collection.exited + collection.waiting.size;
    this.workersGauge.child('replied').set(collection.contributions.size);
    this.workersGauge.child('missing').set(missing);
    this.missedReplies.inc(missing);
    // Worker-id order: `first` gauges take the oldest worker's value, the same on every scrape.
    const parts = [...collection.contributions.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    parts.push(contributionOf(this.registry));
    const snapshot = encodeSnapshot(mergeMetricsSnapshots(parts));
    // A requester that has exited meanwhile just goes without.
    sendToWorker(
      collection.requester,
      { type: 'avx:metrics:merged', id: collection.scrape.id, snapshot },
      () => {},
    );
    if (late.length > 0) {
      this.log(
        `avx: cluster metrics: worker ${late.join(', ')} did not answer within ${collection.scrape.timeout} ms; the scrape shows the other ${collection.contributions.size}`,
      );
    }
  }
}

/**
 * Starts answering the workers' cluster-wide scrapes, in the primary; idle in a worker, so one
 * script can call it before `runCluster()` whichever process it runs in.
 */
export function aggregateClusterMetrics(
  options: ClusterMetricsAggregatorOptions = {},
): ClusterMetricsAggregator {
  return new ClusterMetricsAggregator(options);
}

/** Sends `message` to `worker`; `onError` runs if it cannot be sent. */
function sendToWorker(worker: Worker, message: ClusterMetricsMessage, onError: () => void): void {
  try {
    worker.send(message, undefined, (error: Error | null) => {
      if (error !== null) onError();
    });
  } catch {
    onError();
  }
}
