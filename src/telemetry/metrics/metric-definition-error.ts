/**
 * The error a metric definition raises when it breaks the Prometheus data model: metric and
 * label names must match `[a-zA-Z_:][a-zA-Z0-9_:]*` / `[a-zA-Z_][a-zA-Z0-9_]*` (Prometheus
 * "Metric names and labels"; OpenMetrics 1.0 §"ABNF"), names beginning with `__` are reserved,
 * a name may be registered once per registry, histogram buckets must increase, and a gauge's
 * cluster aggregation is one of the known rules.
 */
import { AvxError } from '../../core/errors.js';

/** Stable codes of {@link MetricDefinitionError}. */
export type MetricDefinitionErrorCode =
  | 'AVX_METRIC_INVALID_NAME'
  | 'AVX_METRIC_INVALID_LABEL'
  | 'AVX_METRIC_DUPLICATE'
  | 'AVX_METRIC_LABEL_COUNT'
  | 'AVX_METRIC_INVALID_BUCKETS'
  | 'AVX_METRIC_NEGATIVE_INCREMENT'
  | 'AVX_METRIC_INVALID_AGGREGATION';

/** A metric was defined or used against the Prometheus data model's rules. */
export class MetricDefinitionError extends AvxError {
  /** The metric concerned. */
  readonly metric: string;

  constructor(code: MetricDefinitionErrorCode, metric: string, message: string) {
    super(code, `metric ${JSON.stringify(metric)}: ${message}`);
    this.metric = metric;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws unless `name` is a valid metric name. */
export function validateMetricName(name: string): void {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new MetricDefinitionError(
      'AVX_METRIC_INVALID_NAME',
      String(name),
      'a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus data model)',
    );
  }
}

/** Throws unless every label name is valid, not reserved and not repeated. */
export function validateLabelNames(
  metric: string,
  names: readonly string[],
  reserved: readonly string[],
): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || !LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new MetricDefinitionError(
        'AVX_METRIC_INVALID_LABEL',
        metric,
        `label name ${JSON.stringify(name)} must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`,
      );
    }
    if (reserved.includes(name)) {
      throw new MetricDefinitionError(
        'AVX_METRIC_INVALID_LABEL',
        metric,
        `label name "${name}" is reserved here`,
      );
    }
    if (seen.has(name)) {
      throw new MetricDefinitionError('AVX_METRIC_INVALID_LABEL', metric, `label name "${name}" is repeated`);
    }
    seen.add(name);
  }
}
