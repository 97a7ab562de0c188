/**
 * The base of every metric family (Prometheus data model: a name, a help text, a type and a set
 * of time series told apart by label values). It owns the table from label values to series:
 * a tree of Maps, one level per label, so that finding the series of known label values costs
 * a few Map lookups and no allocation; the series are created on first use.
 *
 * Cardinality cap: a family holds at most `maxSeries` series. Samples for a label set that
 * would create one more are dropped (recorded into a detached series nobody exports) and counted
 * through `onSeriesDropped` (the registry's `avx_metrics_series_dropped_total{metric}`).
 */
import { MetricDefinitionError, validateLabelNames, validateMetricName } from './metric-definition-error.js';

/** The metric types of the Prometheus text format 0.0.4 and OpenMetrics 1.0 we expose. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Options shared by every metric. */
export interface MetricOptions<M> {
  /** The metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`. Counters should end in `_total`. */
  name: string;
  /** One line saying what is measured. Default: ''. */
  help?: string;
  /** Label names, in the order `labels()` takes their values. Default: none. */
  labelNames?: readonly string[];
  /** Most series (distinct label value sets) kept; later ones are dropped. Default 1000. */
  maxSeries?: number;
  /**
   * Called before every exposition or snapshot, to set values that are read rather than
   * recorded (process statistics, pool sizes). Default: none.
   */
  collect?: (metric: M) => void;
}

/** One time series: its label values and its recording object. */
export interface MetricSeries<C> {
  readonly labelValues: readonly string[];
  readonly child: C;
}

const NO_LABELS: readonly string[] = Object.freeze([]);

/** A metric family: the series table, the cap and the collect hook. */
export abstract class Metric<C> {
  abstract readonly type: MetricType;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  /** Samples dropped by the cardinality cap, in this family. */
  droppedSamples = 0;
  /** Told when a sample is dropped (set by the registry). */
  onSeriesDropped: (() => void) | undefined = undefined;

  /** Every series, in creation order (the exposition order). */
  readonly series: MetricSeries<C>[] = [];
  private readonly collector: ((metric: this) => void) | undefined;
  private readonly tree = new Map<string, unknown>();
  private unlabelled: C | undefined;
  private detached: C | undefined;

  constructor(options: MetricOptions<never>, reservedLabels: readonly string[] = NO_LABELS) {
    validateMetricName(options.name);
    const labelNames = options.labelNames ?? NO_LABELS;
    validateLabelNames(options.name, labelNames, reservedLabels);
    this.name = options.name;
    this.help = options.help ?? '';
    this.labelNames = Object.freeze([...labelNames]);
    this.maxSeries = options.maxSeries ?? 1000;
    this.collector = options.collect as ((metric: this) => void) | undefined;
  }

  /** Makes the recording object of a new series. */
  protected abstract createChild(): C;

  /** Runs the `collect` hook (before exposition). */
  collect(): void {
    this.collector?.(this);
  }

  /** The series of a metric without labels. */
  protected get single(): C {
    let child = this.unlabelled;
    if (child === undefined) {
      if (this.labelNames.length !== 0) {
        throw new MetricDefinitionError(
          'AVX_METRIC_LABEL_COUNT',
          this.name,
          `needs ${this.labelNames.length} label values (${this.labelNames.join(', ')}): use labels()`,
        );
      }
      child = this.createChild();
      this.unlabelled = child;
      this.series.push({ labelValues: NO_LABELS, child });
    }
    return child;
  }

  /**
   * The series for these label values (as many as `labelNames`, in order). Allocates only the
   * argument array; hold on to the result, or use {@link child} on a hot path.
   */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) this.wrongCount(values.length);
    if (values.length === 0) return this.single;
    let node: Map<string, unknown> = this.tree;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) return this.create(values);
      node = next;
    }
    return (node.get(values[last]!) as C | undefined) ?? this.create(values);
  }

  /**
   * The series for up to four label values, without allocating once it exists: the hot-path
   * form of {@link labels}. Pass exactly as many values as there are label names.
   */
  child(v0?: string, v1?: string, v2?: string, v3?: string): C {
    const n = this.labelNames.length;
    if (n === 0) return this.single;
    if (n > 4) this.wrongCount(-1);
    let node = this.tree.get(v0 as string);
    if (n > 1 && node !== undefined) node = (node as Map<string, unknown>).get(v1 as string);
    if (n > 2 && node !== undefined) node = (node as Map<string, unknown>).get(v2 as string);
    if (n > 3 && node !== undefined) node = (node as Map<string, unknown>).get(v3 as string);
    if (node !== undefined) return node as C;
    const values = [v0, v1, v2, v3].slice(0, n);
    for (let i = 0; i < n; i++) if (typeof values[i] !== 'string') this.wrongCount(i);
    return this.create(values as string[]);
  }

  /** The number of series. */
  get seriesCount(): number {
    return this.series.length;
  }

  private create(values: string[]): C {
    for (const v of values) {
      if (typeof v !== 'string') {
        throw new MetricDefinitionError(
          'AVX_METRIC_INVALID_LABEL',
          this.name,
          'label values must be strings',
        );
      }
    }
    if (this.series.length >= this.maxSeries) {
      this.droppedSamples++;
      this.onSeriesDropped?.();
      this.detached ??= this.createChild();
      return this.detached;
    }
    const child = this.createChild();
    let node = this.tree;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(values[i]!, next);
      }
      node = next;
    }
    node.set(values[last]!, child);
    this.series.push({ labelValues: Object.freeze(values.slice()), child });
    return child;
  }

  private wrongCount(got: number): never {
    throw new MetricDefinitionError(
      'AVX_METRIC_LABEL_COUNT',
      this.name,
      got < 0
        ? `has ${this.labelNames.length} labels: child() takes at most 4, use labels()`
        : `takes ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${got}`,
    );
  }
}
