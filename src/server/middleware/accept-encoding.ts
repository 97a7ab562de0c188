/**
 * Content-coding negotiation from `Accept-Encoding` (RFC 9110 §12.5.3), with q-values
 * (RFC 9110 §12.4.2). Parsed with a loop over the field, no regular expressions.
 *
 * Rules applied:
 * - codings compare case-insensitively; `x-gzip` is an alias of `gzip` (RFC 9110 §8.4.1.3);
 * - `q=0` means "not acceptable"; a missing q is 1; a malformed q makes that member ignored;
 * - `*` gives its q to every coding not listed by name;
 * - a coding neither listed nor covered by `*` is not acceptable;
 * - among acceptable codings the highest q wins, ties going to the server's order.
 * A missing or empty field yields no coding: the response is sent as is (identity).
 */

/** Largest Accept-Encoding value examined, in characters; longer fields are treated as absent. */
const MAX_FIELD_LENGTH = 4096;

/**
 * The coding from `supported` (lower case, in server preference order) to use for a request
 * with `acceptEncoding`, or null to send the content unencoded.
 */
export function negotiateContentCoding(
  acceptEncoding: string | undefined,
  supported: readonly string[],
): string | null {
  if (
    acceptEncoding === undefined ||
    acceptEncoding.length === 0 ||
    acceptEncoding.length > MAX_FIELD_LENGTH
  ) {
    return null;
  }
  const n = supported.length;
  // q per supported coding; -1 = not mentioned by name.
  const q = new Array<number>(n).fill(-1);
  let starQ = -1;
  const field = acceptEncoding;
  let pos = 0;
  const length = field.length;
  while (pos < length) {
    let end = field.indexOf(',', pos);
    if (end === -1) end = length;
    const semi = field.indexOf(';', pos);
    const nameEnd = semi !== -1 && semi < end ? semi : end;
    const name = field.slice(pos, nameEnd).trim().toLowerCase();
    const weight = nameEnd === end ? 1 : parseQ(field, nameEnd + 1, end);
    pos = end + 1;
    if (name === '' || weight < 0) continue;
    if (name === '*') {
      starQ = Math.max(starQ, weight);
      continue;
    }
    const canonical = name === 'x-gzip' ? 'gzip' : name;
    const i = supported.indexOf(canonical);
    if (i !== -1) q[i] = Math.max(q[i]!, weight);
  }
  let best: string | null = null;
  let bestQ = 0;
  for (let i = 0; i < n; i++) {
    const weight = q[i] === -1 ? starQ : q[i]!;
    if (weight > bestQ) {
      bestQ = weight;
      best = supported[i]!;
    }
  }
  return best;
}

/**
 * The q-value among the parameters in `field[start, end)` (`; q=0.5`, RFC 9110 §12.4.2:
 * `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`), 1 when absent, -1 when
 * malformed.
 */
function parseQ(field: string, start: number, end: number): number {
  let pos = start;
  while (pos < end) {
    let paramEnd = field.indexOf(';', pos);
    if (paramEnd === -1 || paramEnd > end) paramEnd = end;
    const param = field.slice(pos, paramEnd).trim();
    pos = paramEnd + 1;
    if (param.length < 2 || (param.charCodeAt(0) | 0x20) !== 0x71 /* q */) continue;
    let i = 1;
    while (i < param.length && param.charCodeAt(i) === 0x20) i++;
    if (param.charCodeAt(i) !== 0x3d /* = */) continue;
    i++;
    while (i < param.length && param.charCodeAt(i) === 0x20) i++;
    return qValue(param.slice(i));
  }
  return 1;
}

function qValue(text: string): number {
  const first = text.charCodeAt(0);
  if (first !== 0x30 && first !== 0x31) return -1;
  if (text.length === 1) return first - 0x30;
  if (text.charCodeAt(1) !== 0x2e || text.length > 5) return -1;
  let value = first - 0x30;
  let scale = 0.1;
  for (let i = 2; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value += d * scale;
    scale /= 10;
  }
  return value > 1 ? -1 : value;
}
