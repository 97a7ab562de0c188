/**
 * The field section prefix (RFC 9204 §4.5.1): the Required Insert Count, encoded modulo twice
 * the most entries the table can hold (§4.5.1.1), and the Base as a sign bit and Delta Base
 * (§4.5.1.2).
 */

/** RFC 9204 §4.5.1.1: MaxEntries for a maximum table capacity in octets. */
export function qpackMaxEntries(maxTableCapacity: number): number {
  return Math.floor(maxTableCapacity / 32);
}

/** RFC 9204 §4.5.1.1: the Encoded Required Insert Count sent for `requiredInsertCount`. */
export function encodeRequiredInsertCount(requiredInsertCount: number, maxEntries: number): number {
  if (requiredInsertCount === 0) return 0;
  return (requiredInsertCount % (2 * maxEntries)) + 1;
}

/**
 * RFC 9204 §4.5.1.1: the Required Insert Count from its encoding, given the decoder's
 * `totalInserts`; returns -1 for a value no conforming encoder could have produced.
 */
export function decodeRequiredInsertCount(encoded: number, maxEntries: number, totalInserts: number): number {
  if (encoded === 0) return 0;
  const fullRange = 2 * maxEntries;
  if (encoded > fullRange) return -1;
  const maxValue = totalInserts + maxEntries;
  const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
  let required = maxWrapped + encoded - 1;
  if (required > maxValue) {
    // The encoder's value wrapped one time fewer than ours would have.
    if (required <= fullRange) return -1;
    required -= fullRange;
  }
  // A Required Insert Count of 0 is always encoded as 0.
  if (required === 0) return -1;
  return required;
}

/**
 * RFC 9204 §4.5.1.2: the Base from the sign bit and Delta Base; returns -1 when negative
 * (S = 1 with Delta Base >= Required Insert Count).
 */
export function decodeBase(requiredInsertCount: number, sign: boolean, deltaBase: number): number {
  if (!sign) return requiredInsertCount + deltaBase;
  const base = requiredInsertCount - deltaBase - 1;
  return base < 0 ? -1 : base;
}
