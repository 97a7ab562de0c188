/**
 * The size of a field section as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2): the
 * uncompressed octets of every name and value plus 32 octets per field (RFC 7541 §4.1). Field
 * strings are latin1 here (one octet per character), as the HPACK coder writes them.
 */

/** RFC 7541 §4.1: the overhead counted per field. */
const FIELD_OVERHEAD = 32;

/** The size of `fields` (`[name, value, name, value, ...]`) in octets. */
export function fieldSectionSize(fields: readonly string[]): number {
  let size = 0;
  for (let i = 0; i < fields.length; i++) size += fields[i]!.length;
  return size + (fields.length >> 1) * FIELD_OVERHEAD;
}
