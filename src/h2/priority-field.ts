/**
 * The `priority` field and PRIORITY_UPDATE values of RFC 9218 §4-§5: an sf-dictionary with
 * `u` (urgency 0..7, default 3) and `i` (incremental, default false). Unknown members and
 * malformed input are ignored, as §4 asks; parsing never throws. Serializing writes the
 * dictionary of RFC 8941 §4.1.2 that parsing reads back.
 */

/** RFC 9218 §4 priority parameters. */
export interface PriorityParams {
  /** 0 (most urgent) .. 7. Default 3. */
  urgency: number;
  /** The response may be interleaved with others of the same urgency. Default false. */
  incremental: boolean;
}

/** RFC 9218 §4.1, §4.2 defaults. */
export const DEFAULT_PRIORITY: Readonly<PriorityParams> = Object.freeze({ urgency: 3, incremental: false });

/** Parses a `priority` field value, e.g. `u=1, i`. */
export function parsePriorityField(value: string, base: PriorityParams = DEFAULT_PRIORITY): PriorityParams {
  let urgency = base.urgency;
  let incremental = base.incremental;
  for (const raw of value.split(',')) {
    const member = raw.trim();
    const eq = member.indexOf('=');
    const key = (eq === -1 ? member : member.slice(0, eq)).split(';')[0]!.trim();
    const val =
      eq === -1
        ? '?1'
        : member
            .slice(eq + 1)
            .split(';')[0]!
            .trim();
    if (key === 'u') {
      // RFC 9218 §4.1: an integer 0..7; other values are ignored.
      if (/^[0-7]$/.test(val)) urgency = Number(val);
    } else if (key === 'i') {
      // RFC 9218 §4.2: a boolean (`i` alone means true).
      if (val === '?1') incremental = true;
      else if (val === '?0') incremental = false;
    }
  }
  return { urgency, incremental };
}

/**
 * Serializes priority parameters as a `priority` field value (RFC 9218 §4, RFC 8941 §4.1.2),
 * e.g. `u=1, i`. The urgency is always written, so the value never reads as "the defaults" by
 * accident of being empty; `i` only when true (a true boolean member is its bare key).
 * Throws RangeError for an urgency outside 0..7 (§4.1), which no peer could read.
 */
export function serializePriorityField(params: PriorityParams): string {
  const { urgency, incremental } = params;
  if (!Number.isInteger(urgency) || urgency < 0 || urgency > 7) {
    throw new RangeError(`urgency must be an integer 0..7 (RFC 9218 §4.1), got ${urgency}`);
  }
  return incremental ? `u=${urgency}, i` : `u=${urgency}`;
}
