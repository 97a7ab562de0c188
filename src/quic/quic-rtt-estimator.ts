/**
 * The RTT estimate of a QUIC connection (RFC 9002 §5): latest_rtt, min_rtt, smoothed_rtt and
 * rttvar, updated from RTT samples with the peer's acknowledgment delay subtracted (§5.3), and
 * the two durations loss recovery derives from them: the time threshold of loss detection
 * (§6.1.2) and the base of the probe timeout (§6.2.1). Times are milliseconds.
 */

/** kGranularity, ms (RFC 9002 §6.1.2). */
const QUIC_TIMER_GRANULARITY = 1;
/** kInitialRtt, ms (RFC 9002 §6.2.2). */
const QUIC_INITIAL_RTT = 333;

/** RTT estimate of one path (RFC 9002 §5). */
export class QuicRttEstimator {
  latestRtt = 0;
  smoothedRtt = QUIC_INITIAL_RTT;
  rttVar = QUIC_INITIAL_RTT / 2;
  minRtt = 0;
  hasSample = false;

  /** Takes an RTT sample `latestRtt` whose ACK reported `ackDelay` ms of delay (RFC 9002 §5.3). */
  update(latestRtt: number, ackDelay: number): void {
    this.latestRtt = latestRtt;
    if (!this.hasSample) {
      this.hasSample = true;
      this.minRtt = latestRtt;
      this.smoothedRtt = latestRtt;
      this.rttVar = latestRtt / 2;
      return;
    }
    this.minRtt = Math.min(this.minRtt, latestRtt);
    let adjusted = latestRtt;
    if (latestRtt >= this.minRtt + ackDelay) adjusted = latestRtt - ackDelay;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /** How long after a later packet was acknowledged an earlier one is lost (RFC 9002 §6.1.2). */
  lossDelay(): number {
    return Math.max((9 / 8) * Math.max(this.latestRtt, this.smoothedRtt), QUIC_TIMER_GRANULARITY);
  }

  /** smoothed_rtt + max(4 * rttvar, kGranularity): the PTO before max_ack_delay and backoff (RFC 9002 §6.2.1). */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, QUIC_TIMER_GRANULARITY);
  }
}
