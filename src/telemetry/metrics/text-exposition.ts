/**
 * The two text exposition formats a Prometheus server scrapes:
 * - Prometheus text format 0.0.4 (`text/plain; version=0.0.4`): `# HELP`, `# TYPE`, then one
 *   `name{label="value"} number` line per sample; HELP escapes `\` and newline, label values
 *   escape `\`, `"` and newline.
 * - OpenMetrics 1.0.0 (`application/openmetrics-text; version=1.0.0`): the same lines, except
 *   that a counter family is named without `_total` and its sample carries it (OpenMetrics §
 *   "Counter"), HELP also escapes `"`, histogram `le` values are canonical floats (`1.0`), and
 *   the exposition ends with `# EOF`.
 * Histograms expose cumulative `_bucket{le}` series ending with `le="+Inf"`, then `_sum` and
 * `_count`.
 */
import type { Counter } from './counter.js';
import type { Gauge } from './gauge.js';
import type { Histogram } from './histogram.js';

/** A metric family any exposition can write. */
export type AnyMetric = Counter | Gauge | Histogram;

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics 1.0.0 text. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The metric families in the Prometheus text format 0.0.4. */
export function writePrometheusText(metrics: Iterable<AnyMetric>): string {
  return writeText(metrics, false);
}

/** The metric families in OpenMetrics 1.0.0 text, ending with `# EOF`. */
export function writeOpenMetricsText(metrics: Iterable<AnyMetric>): string {
  return `${writeText(metrics, true)}# EOF\n`;
}

function writeText(metrics: Iterable<AnyMetric>, openMetrics: boolean): string {
  let out = '';
  for (const metric of metrics) {
    if (metric.series.length === 0) continue;
    let family = metric.name;
    let sampleName = metric.name;
    if (metric.type === 'counter' && openMetrics) {
      if (family.endsWith('_total')) family = family.slice(0, -6);
      sampleName = `${family}_total`;
    }
    if (metric.help !== '') out += `# HELP ${family} ${escapeHelp(metric.help, openMetrics)}\n`;
    out += `# TYPE ${family} ${metric.type}\n`;
    const names = metric.labelNames;
    if (metric.type === 'histogram') {
      const bounds = metric.buckets;
      const les = bounds.map((b) => formatLe(b, openMetrics));
      les.push('+Inf');
      for (const { labelValues, child } of metric.series) {
        const labels = labelPairs(names, labelValues);
        const prefix = labels === '' ? '' : `${labels},`;
        let cumulative = 0;
        for (let i = 0; i < les.length; i++) {
          cumulative += child.counts[i]!;
          out += `${family}_bucket{${prefix}le="${les[i]}"} ${formatNumber(cumulative)}\n`;
        }
        const braces = labels === '' ? '' : `{${labels}}`;
        out += `${family}_sum${braces} ${formatNumber(child.sum)}\n`;
        out += `${family}_count${braces} ${formatNumber(child.count)}\n`;
      }
    } else {
      for (const { labelValues, child } of metric.series) {
        const labels = labelPairs(names, labelValues);
        out += `${sampleName}${labels === '' ? '' : `{${labels}}`} ${formatNumber(child.value)}\n`;
      }
    }
  }
  return out;
}

function labelPairs(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    out += `${names[i]}="${escapeLabelValue(values[i]!)}"`;
  }
  return out;
}

/** A sample value as Go's ParseFloat reads it: `+Inf`, `-Inf`, `NaN` or a JS number. */
export function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function formatLe(bound: number, openMetrics: boolean): string {
  const text = formatNumber(bound);
  // OpenMetrics canonical numbers: an integral bucket bound is written as a float, `1.0`.
  return openMetrics && Number.isInteger(bound) && !text.includes('e') ? `${text}.0` : text;
}

function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string, openMetrics: boolean): string {
  let out = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  if (openMetrics) out = out.replace(/"/g, '\\"');
  return out;
}
