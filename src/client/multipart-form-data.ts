/**
 * Encoding of a WHATWG `FormData` as `multipart/form-data` (RFC 7578, framing of RFC 2046 §5.1.1).
 * Names and file names are escaped as the WHATWG HTML standard's multipart/form-data encoding
 * does (`"` -> `%22`, CR -> `%0D`, LF -> `%0A`), which RFC 7578 §4.2 allows. The length of the
 * whole body is known up front (string parts are encoded once, file parts have a size), so the
 * request carries a Content-Length; file contents are streamed, never buffered whole.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

/** A FormData ready to be sent: its content type (with boundary), exact length and a byte source. */
export interface MultipartFormData {
  /** `multipart/form-data; boundary=...`. */
  contentType: string;
  /** Total length in bytes. */
  length: number;
  /** Yields the encoded body; may be called again to send it again (redirects, retries). */
  open(): AsyncIterable<Uint8Array>;
}

const CRLF = '\r\n';

/** RFC 7578 §4.2 / WHATWG: escape `"`, CR and LF in a name or file name. */
function escapeName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x22) out += '%22';
    else if (c === 0x0d) out += '%0D';
    else if (c === 0x0a) out += '%0A';
    else out += name[i];
  }
  return out;
}

/** Newlines in string values are normalised to CRLF (WHATWG "convert to a list of name-value pairs"). */
function normalizeNewlines(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d) {
      out += CRLF;
      if (value.charCodeAt(i + 1) === 0x0a) i++;
    } else if (c === 0x0a) {
      out += CRLF;
    } else {
      out += value[i];
    }
  }
  return out;
}

/** Encodes `form` as multipart/form-data. */
export function encodeMultipartFormData(form: FormData): MultipartFormData {
  // RFC 2046 §5.1.1: the boundary must not occur in the content; 24 random bytes make that
  // practically impossible (the same approach as browsers).
  const boundary = `----avx-http-${randomBytes(18).toString('base64url')}`;
  const parts: (Buffer | Blob)[] = [];
  let length = 0;
  for (const [name, value] of form as unknown as Iterable<[string, string | Blob]>) {
    let head = `--${boundary}${CRLF}Content-Disposition: form-data; name="${escapeName(name)}"`;
    if (typeof value === 'string') {
      const bytes = Buffer.from(`${head}${CRLF}${CRLF}${normalizeNewlines(value)}${CRLF}`, 'utf8');
      parts.push(bytes);
      length += bytes.length;
      continue;
    }
    const file = value as File;
    const fileName = typeof file.name === 'string' ? file.name : 'blob';
    head += `; filename="${escapeName(fileName)}"${CRLF}`;
    head += `Content-Type: ${file.type === '' ? 'application/octet-stream' : file.type}${CRLF}${CRLF}`;
    const headBytes = Buffer.from(head, 'utf8');
    parts.push(headBytes, file, Buffer.from(CRLF, 'latin1'));
    length += headBytes.length + file.size + 2;
  }
  const closing = Buffer.from(`--${boundary}--${CRLF}`, 'latin1');
  parts.push(closing);
  length += closing.length;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    open: () => emitParts(parts),
  };
}

async function* emitParts(parts: readonly (Buffer | Blob)[]): AsyncIterable<Uint8Array> {
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      yield part;
    } else {
      for await (const chunk of part.stream() as unknown as AsyncIterable<Uint8Array>) yield chunk;
    }
  }
}
