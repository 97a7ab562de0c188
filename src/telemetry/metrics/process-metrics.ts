/**
 * Process and runtime instruments with the names and meanings of prom-client's default metrics
 * (and the Prometheus client libraries' `process_*` conventions), read at scrape time:
 * CPU seconds (`process.cpuUsage`), start time, resident memory, open file descriptors (Linux
 * `/proc/self/fd`), V8 heap totals and heap spaces (`v8.getHeapSpaceStatistics`), event-loop lag
 * from `perf_hooks.monitorEventLoopDelay` (min, max, mean, stddev, p50, p90, p99; reset at
 * every scrape), the Node.js version, and GC pauses by kind from a `PerformanceObserver` on
 * `gc` entries.
 *
 * Across cluster workers (a cluster-wide scrape, see metrics-snapshot-merge.ts) CPU, memory,
 * descriptors and GC pauses add up; the start time is the oldest worker's (the cluster's
 * uptime); event-loop lag is not additive: its minimum is the least of the workers', its
 * maximum, p90 and p99 the worst worker's (what a lag alert is about: percentiles cannot be
 * merged without the samples), its mean, standard deviation and p50 the average of the
 * workers'; the version is the first worker's (every worker reports the same one).
 */
import { readdirSync } from 'node:fs';
import {
  constants,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
} from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Counter } from './counter.js';
import type { GaugeAggregation } from './gauge.js';
import type { Histogram } from './histogram.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** Options of the process instruments. */
export interface ProcessMetricsOptions {
  /** Sampling resolution of the event-loop delay monitor, in ms. Default 10. */
  eventLoopResolution?: number;
  /** Buckets of `nodejs_gc_duration_seconds`. Default [0.001, 0.01, 0.1, 1, 2, 5]. */
  gcBuckets?: readonly number[];
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Process, heap, event-loop and GC instruments in a registry. */
export class ProcessMetrics {
  readonly gcDuration: Histogram;
  private readonly loopDelay: IntervalHistogram;
  private readonly gcObserver: PerformanceObserver | undefined;

  constructor(registry: MetricsRegistry, options: ProcessMetricsOptions = {}) {
    this.loopDelay = monitorEventLoopDelay({ resolution: options.eventLoopResolution ?? 10 });
    this.loopDelay.enable();
    const cpu = (name: string, help: string, read: (u: NodeJS.CpuUsage) => number) =>
      registry.counter({
        name,
        help,
        collect: (c: Counter) => {
          c.labels().value = read(process.cpuUsage()) / 1e6;
        },
      });
    cpu('process_cpu_user_seconds_total', 'User CPU time spent in seconds', (u) => u.user);
    cpu('process_cpu_system_seconds_total', 'System CPU time spent in seconds', (u) => u.system);
    cpu(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds',
      (u) => u.user + u.system,
    );
    const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
    registry.gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since unix epoch in seconds',
      aggregate: 'min',
      collect: (g) => g.set(startSeconds),
    });
    registry.gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes',
      collect: (g) => g.set(process.memoryUsage.rss()),
    });
    if (process.platform === 'linux') {
      registry.gauge({
        name: 'process_open_fds',
        help: 'Number of open file descriptors',
        collect: (g) => g.set(readdirSync('/proc/self/fd').length - 1),
      });
    }
    registry.gauge({
      name: 'nodejs_heap_size_total_bytes',
      help: 'Process heap size from Node.js in bytes',
      collect: (g) => g.set(process.memoryUsage().heapTotal),
    });
    registry.gauge({
      name: 'nodejs_heap_size_used_bytes',
      help: 'Process heap size used from Node.js in bytes',
      collect: (g) => g.set(process.memoryUsage().heapUsed),
    });
    registry.gauge({
      name: 'nodejs_external_memory_bytes',
      help: 'Node.js external memory size in bytes',
      collect: (g) => g.set(process.memoryUsage().external),
    });
    for (const [suffix, field] of [
      ['total', 'space_size'],
      ['used', 'space_used_size'],
      ['available', 'space_available_size'],
    ] as const) {
      registry.gauge({
        name: `nodejs_heap_space_size_${suffix}_bytes`,
        help: `Process heap space size ${suffix} from Node.js in bytes`,
        labelNames: ['space'],
        collect: (g) => {
          for (const space of getHeapSpaceStatistics()) {
            g.child(space.space_name.replace(/_space$/, '')).set(space[field]);
          }
        },
      });
    }
    const lag = (
      name: string,
      help: string,
      aggregate: GaugeAggregation,
      read: (h: IntervalHistogram) => number,
    ) => registry.gauge({ name, help, aggregate, collect: (g) => g.set(read(this.loopDelay) / 1e9) });
    // Each scrape reports the delays since the previous one: the last gauge resets the monitor.
    lag('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay', 'min', (h) =>
      finite(h.min),
    );
    lag('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay', 'max', (h) => h.max);
    lag('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays', 'average', (h) =>
      finite(h.mean),
    );
    lag(
      'nodejs_eventloop_lag_stddev_seconds',
      'The standard deviation of the recorded event loop delays',
      'average',
      (h) => finite(h.stddev),
    );
    lag(
      'nodejs_eventloop_lag_p50_seconds',
      'The 50th percentile of the recorded event loop delays',
      'average',
      (h) => h.percentile(50),
    );
    lag(
      'nodejs_eventloop_lag_p90_seconds',
      'The 90th percentile of the recorded event loop delays',
      'max',
      (h) => h.percentile(90),
    );
    lag(
      'nodejs_eventloop_lag_p99_seconds',
      'The 99th percentile of the recorded event loop delays',
      'max',
      (h) => {
        const p99 = h.percentile(99);
        h.reset();
        return p99;
      },
    );
    const [major, minor, patch] = process.versions.node.split('.');
    registry.gauge({
      name: 'nodejs_version_info',
      help: 'Node.js version info',
      labelNames: ['version', 'major', 'minor', 'patch'],
      aggregate: 'first',
      collect: (g) => g.child(process.version, major ?? '', minor ?? '', patch ?? '').set(1),
    });
    this.gcDuration = registry.histogram({
      name: 'nodejs_gc_duration_seconds',
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb',
      labelNames: ['kind'],
      buckets: options.gcBuckets ?? [0.001, 0.01, 0.1, 1, 2, 5],
    });
    const gc = this.gcDuration;
    try {
      this.gcObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
          const kind = GC_KINDS[detail?.kind ?? -1] ?? 'unknown';
          gc.child(kind).observe(entry.duration / 1000);
        }
      });
      this.gcObserver.observe({ entryTypes: ['gc'] });
    } catch {
      this.gcObserver = undefined;
    }
  }

  /** Stops the event-loop monitor and the GC observer. */
  close(): void {
    this.loopDelay.disable();
    this.gcObserver?.disconnect();
  }
}

/** The monitor reports huge sentinels (and NaN) before its first sample: report 0 then. */
function finite(value: number): number {
  return Number.isFinite(value) && value < 9e18 ? value : 0;
}
