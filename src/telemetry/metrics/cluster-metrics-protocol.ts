/**
 * The messages a cluster-wide scrape exchanges over node:cluster IPC (`process.send` in a
 * worker, `worker.send` in the primary), all objects whose `type` starts with `avx:metrics:`,
 * so that each side can ignore every other message on the channel (the cluster's own
 * `'avx:shutdown'` string, the application's messages):
 *
 * ```
 * worker                                primary                              other workers
 *   ready ───────────────────────────▶  (asks this worker from now on)
 *   scrape {id, name, timeout, own} ─▶  collect {id', name} ─────────────────▶
 *                                       ◀──────────────── contribution {id', metrics | null}
 *   ◀──────────────── merged {id, snapshot}   (when all answered, or at the timeout)
 * ```
 *
 * Ids tell concurrent scrapes apart: a worker numbers its scrapes, the primary its collections.
 * IPC serializes messages as JSON by default, which has no NaN or ±Infinity (a gauge may hold
 * them): sample values travel as numbers when finite and as their text form (`'+Inf'`, `'-Inf'`,
 * `'NaN'`) otherwise.
 */
import type { GaugeAggregation } from './gauge.js';
import type { MetricsSnapshot } from './metrics-snapshot.js';
import type { MetricsContribution } from './metrics-snapshot-merge.js';
import { formatNumber } from './text-exposition.js';

/** A sample value on the wire: a finite number, or the text of a non-finite one. */
export type WireNumber = number | '+Inf' | '-Inf' | 'NaN';

/** A snapshot whose sample values (value, sum) are of type `N`. */
interface SnapshotOf<N> {
  metrics: {
    name: string;
    help: string;
    type: 'counter' | 'gauge' | 'histogram';
    series: {
      labels: Record<string, string>;
      value?: N;
      buckets?: { le: string; count: number }[];
      sum?: N;
      count?: number;
    }[];
  }[];
}

/** A {@link MetricsSnapshot} on the wire. */
export type WireSnapshot = SnapshotOf<WireNumber>;

/** A {@link MetricsContribution} on the wire. */
export interface WireContribution {
  snapshot: WireSnapshot;
  gaugeAggregation: Record<string, GaugeAggregation>;
}

/** Worker to primary, once: this worker answers collections from now on. */
export interface ReadyMessage {
  type: 'avx:metrics:ready';
}

/** Worker to primary: a scrape arrived here; merge everyone's metrics with `own`. */
export interface ScrapeMessage {
  type: 'avx:metrics:scrape';
  id: number;
  /** The registry's cluster name (see `ClusterMetricsOptions.name`). */
  name: string;
  /** How long the primary waits for the other workers, in ms. */
  timeout: number;
  own: WireContribution;
}

/** Primary to worker: send your metrics of registry `name`. */
export interface CollectMessage {
  type: 'avx:metrics:collect';
  id: number;
  name: string;
}

/** Worker to primary: the answer to a collect (`null`: no registry of that name here). */
export interface ContributionMessage {
  type: 'avx:metrics:contribution';
  id: number;
  contribution: WireContribution | null;
}

/** Primary to worker: the answer to a scrape. */
export interface MergedMessage {
  type: 'avx:metrics:merged';
  id: number;
  snapshot: WireSnapshot;
}

/** Any message of this protocol. */
export type ClusterMetricsMessage =
  | ReadyMessage
  | ScrapeMessage
  | CollectMessage
  | ContributionMessage
  | MergedMessage;

/** True for a message of this protocol (anything else on the channel is someone else's). */
export function isClusterMetricsMessage(message: unknown): message is ClusterMetricsMessage {
  if (typeof message !== 'object' || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' && type.startsWith('avx:metrics:');
}

/** `snapshot` with every non-finite sample value as text. */
export function encodeSnapshot(snapshot: MetricsSnapshot): WireSnapshot {
  return convertSamples(snapshot, toWire);
}

/** The snapshot {@link encodeSnapshot} encoded. */
export function decodeSnapshot(wire: WireSnapshot): MetricsSnapshot {
  return convertSamples(wire, fromWire);
}

/** `snapshot` with `convert` applied to each series' value and sum. */
function convertSamples<A, B>(snapshot: SnapshotOf<A>, convert: (value: A) => B): SnapshotOf<B> {
  return {
    metrics: snapshot.metrics.map(({ name, help, type, series }) => ({
      name,
      help,
      type,
      series: series.map(({ labels, value, buckets, sum, count }) => {
        const out: SnapshotOf<B>['metrics'][number]['series'][number] = { labels };
        if (value !== undefined) out.value = convert(value);
        if (buckets !== undefined) out.buckets = buckets;
        if (sum !== undefined) out.sum = convert(sum);
        if (count !== undefined) out.count = count;
        return out;
      }),
    })),
  };
}

/** A contribution ready for the wire. */
export function encodeContribution(contribution: MetricsContribution): WireContribution {
  return {
    snapshot: encodeSnapshot(contribution.snapshot),
    gaugeAggregation: { ...contribution.gaugeAggregation },
  };
}

/** The contribution {@link encodeContribution} encoded. */
export function decodeContribution(wire: WireContribution): MetricsContribution {
  return { snapshot: decodeSnapshot(wire.snapshot), gaugeAggregation: wire.gaugeAggregation };
}

function toWire(value: number): WireNumber {
  return Number.isFinite(value) ? value : (formatNumber(value) as WireNumber);
}

function fromWire(value: WireNumber): number {
  if (typeof value === 'number') return value;
  if (value === '+Inf') return Number.POSITIVE_INFINITY;
  if (value === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}
