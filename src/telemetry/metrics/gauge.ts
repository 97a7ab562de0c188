/**
 * Gauge: a value that goes up and down (Prometheus metric type `gauge`; OpenMetrics 1.0
 * §"Gauge"). Setting it mutates one number: no allocation.
 */
import { Metric, type MetricOptions } from './metric.js';

/** One gauge series. */
export class GaugeSeries {
  /** The current value. */
  value = 0;

  set(value: number): void {
    this.value = value;
  }

  inc(amount = 1): void {
    this.value += amount;
  }

  dec(amount = 1): void {
    this.value -= amount;
  }
}

/** Options of {@link Gauge}. */
export type GaugeOptions = MetricOptions<Gauge>;

/** A gauge family. */
export class Gauge extends Metric<GaugeSeries> {
  readonly type = 'gauge' as const;

  constructor(options: GaugeOptions) {
    super(options as MetricOptions<never>);
  }

  protected createChild(): GaugeSeries {
    return new GaugeSeries();
  }

  /** Sets a gauge without labels. */
  set(value: number): void {
    this.single.set(value);
  }

  inc(amount = 1): void {
    this.single.inc(amount);
  }

  dec(amount = 1): void {
    this.single.dec(amount);
  }

  /** The value of a gauge without labels. */
  get value(): number {
    return this.single.value;
  }
}
