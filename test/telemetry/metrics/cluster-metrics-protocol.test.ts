import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeContribution,
  encodeContribution,
  isClusterMetricsMessage,
} from '../../../src/telemetry/metrics/cluster-metrics-protocol.js';
import type { MetricsSnapshot } from '../../../src/telemetry/metrics/metrics-snapshot.js';

test('a contribution survives JSON IPC, non-finite sample values included', () => {
  const snapshot: MetricsSnapshot = {
    metrics: [
      {
        name: 'g',
        help: 'a gauge',
        type: 'gauge',
        series: [
          { labels: { k: 'NaN' }, value: Number.NaN },
          { labels: { k: 'up' }, value: Number.POSITIVE_INFINITY },
          { labels: { k: 'down' }, value: Number.NEGATIVE_INFINITY },
          { labels: { k: 'plain' }, value: 0.1 + 0.2 },
        ],
      },
      {
        name: 'h',
        help: '',
        type: 'histogram',
        series: [
          {
            labels: {},
            buckets: [
              { le: '1', count: 1 },
              { le: '+Inf', count: 2 },
            ],
            sum: Number.POSITIVE_INFINITY,
            count: 2,
          },
        ],
      },
    ],
  };
  // What node:cluster's default ('json') serialization does to a message.
  const wire = JSON.parse(JSON.stringify(encodeContribution({ snapshot, gaugeAggregation: { g: 'max' } })));
  assert.deepEqual(decodeContribution(wire), { snapshot, gaugeAggregation: { g: 'max' } });
  // Without the encoding, JSON would have turned them into null.
  assert.equal(JSON.parse(JSON.stringify(snapshot)).metrics[0].series[1].value, null);
});

test('only objects typed avx:metrics:* belong to the protocol', () => {
  assert.equal(isClusterMetricsMessage({ type: 'avx:metrics:ready' }), true);
  for (const other of ['avx:shutdown', null, 42, { type: 'app:hello' }, { kind: 'avx:metrics:ready' }]) {
    assert.equal(isClusterMetricsMessage(other), false, JSON.stringify(other));
  }
});
