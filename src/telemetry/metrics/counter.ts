/**
 * Counter: a value that only goes up (Prometheus metric type `counter`; OpenMetrics 1.0
 * §"Counter", exposed with the `_total` suffix). Incrementing mutates one number: no allocation.
 */
import { Metric, type MetricOptions } from './metric.js';
import { MetricDefinitionError } from './metric-definition-error.js';

/** One counter series. */
export class CounterSeries {
  /** The current value. */
  value = 0;

  constructor(private readonly metric: string) {}

  /** Adds `amount` (default 1; must be >= 0). */
  inc(amount = 1): void {
    if (!(amount >= 0)) {
      throw new MetricDefinitionError(
        'AVX_METRIC_NEGATIVE_INCREMENT',
        this.metric,
        `a counter only goes up; got ${amount}`,
      );
    }
    this.value += amount;
  }
}

/** Options of {@link Counter}. */
export type CounterOptions = MetricOptions<Counter>;

/** A counter family. */
export class Counter extends Metric<CounterSeries> {
  readonly type = 'counter' as const;

  constructor(options: CounterOptions) {
    super(options as MetricOptions<never>);
  }

  protected createChild(): CounterSeries {
    return new CounterSeries(this.name);
  }

  /** Adds `amount` (default 1) to the series of a counter without labels. */
  inc(amount = 1): void {
    this.single.inc(amount);
  }

  /** The value of a counter without labels. */
  get value(): number {
    return this.single.value;
  }
}
