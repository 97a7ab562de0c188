/**
 * Unit tests of a region's health pieces: the circuit breaker's transitions (closed, open,
 * half-open with a single trial) driven by given timestamps, and the head latency ring's
 * nearest-rank percentiles and eviction of the oldest sample.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { HeadLatencyRing } from '../../../src/client/regional/head-latency-ring.js';
import {
  Admission,
  CircuitState,
  RegionCircuitBreaker,
} from '../../../src/client/regional/region-circuit-breaker.js';

test('circuit breaker: opens at the threshold, refuses during cooldown, admits one trial after it', () => {
  const breaker = new RegionCircuitBreaker(3, 1000);
  assert.equal(breaker.tryAcquire(0), Admission.Admitted);
  breaker.onFailure(0);
  breaker.onFailure(0);
  breaker.onSuccess();
  assert.equal(breaker.consecutiveFailures, 0, 'a success resets the count');
  breaker.onFailure(10);
  breaker.onFailure(10);
  assert.equal(breaker.state, CircuitState.Closed);
  breaker.onFailure(10);
  assert.equal(breaker.state, CircuitState.Open);
  assert.equal(breaker.tryAcquire(1009), Admission.Refused);
  assert.equal(breaker.tryAcquire(1010), Admission.Trial);
  assert.equal(breaker.state, CircuitState.HalfOpen);
  assert.equal(breaker.tryAcquire(1010), Admission.Refused, 'only one trial at a time');
  breaker.onNeutral(Admission.Trial);
  assert.equal(breaker.tryAcquire(1011), Admission.Trial, 'a trial without verdict frees the slot');
  breaker.onFailure(1500);
  assert.equal(breaker.state, CircuitState.Open, 'a failed trial reopens');
  assert.equal(breaker.tryAcquire(2499), Admission.Refused, 'the cooldown starts again');
  assert.equal(breaker.tryAcquire(2500), Admission.Trial);
  breaker.onSuccess();
  assert.equal(breaker.state, CircuitState.Closed);
  assert.equal(breaker.tryAcquire(2500), Admission.Admitted);
});

test('head latency ring: nearest-rank percentiles over the last N samples', () => {
  const ring = new HeadLatencyRing(10);
  assert.ok(Number.isNaN(ring.percentile(0.9)));
  for (const v of [50, 10, 90, 30, 70, 20, 100, 40, 80, 60]) ring.record(v);
  assert.equal(ring.count, 10);
  assert.equal(ring.percentile(0.9), 90);
  assert.equal(ring.percentile(0.5), 50);
  assert.equal(ring.percentile(1), 100);
  assert.equal(ring.percentile(0.01), 10);
  // Full: each record evicts the oldest (50, then 10, then 90).
  ring.record(5);
  ring.record(5);
  ring.record(5);
  assert.equal(ring.count, 10);
  assert.equal(ring.percentile(1), 100);
  assert.equal(ring.percentile(0.3), 5);
  assert.equal(ring.percentile(0.4), 20);
  const small = new HeadLatencyRing(3);
  for (const v of [7, 7, 7, 1]) small.record(v);
  assert.equal(small.percentile(1), 7);
  assert.equal(small.percentile(0.33), 1);
  small.record(2);
  small.record(3);
  assert.equal(small.percentile(1), 3, 'every 7 has been evicted');
});
