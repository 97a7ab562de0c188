/**
 * The error a cluster-wide scrape's set-up raises: a worker shares one registry per cluster
 * name (two registries under one name would make the primary's collection ambiguous), only a
 * cluster worker, which has an IPC channel to its primary, can share one at all, and the wait
 * for the other workers must be a positive number of milliseconds.
 */
import { AvxError } from '../../core/errors.js';

/** Stable codes of {@link ClusterMetricsError}. */
export type ClusterMetricsErrorCode =
  | 'AVX_METRICS_CLUSTER_NAME_TAKEN'
  | 'AVX_METRICS_CLUSTER_NOT_WORKER'
  | 'AVX_METRICS_CLUSTER_INVALID_TIMEOUT';

/** A cluster-wide scrape was set up against its rules. */
export class ClusterMetricsError extends AvxError {
  /** The cluster name of the registry concerned. */
  readonly registryName: string;

  constructor(code: ClusterMetricsErrorCode, registryName: string, message: string) {
    super(code, `cluster metrics ${JSON.stringify(registryName)}: ${message}`);
    this.registryName = registryName;
  }
}
