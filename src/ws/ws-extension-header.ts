/**
 * Parsing and formatting of `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
 *
 *   extension-list = 1#extension
 *   extension      = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 *
 * Parameters are kept in order with duplicates, because an extension's negotiation (RFC 7692
 * §7) must reject a parameter given twice. Quoted-string values are unescaped (RFC 9110 §5.6.4)
 * and must then be tokens too (RFC 6455 §9.1).
 */
import { TOKEN_CHARS } from '../core/char-classes.js';

/** One extension of a `Sec-WebSocket-Extensions` value. */
export interface WsExtension {
  /** Extension token, lower-cased (tokens are case-insensitive). */
  name: string;
  /** Parameters in order: [name (lower-cased), value or `true` when it had no value]. */
  params: [string, string | true][];
}

/** Parses a `Sec-WebSocket-Extensions` value; null when it is malformed. */
export function parseWsExtensions(value: string): WsExtension[] | null {
  const out: WsExtension[] = [];
  const n = value.length;
  let i = 0;
  const skipSpace = () => {
    while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && value.charCodeAt(i) < 128 && TOKEN_CHARS[value.charCodeAt(i)] === 1) i++;
    return value.slice(start, i);
  };
  while (i < n) {
    skipSpace();
    if (i < n && value.charCodeAt(i) === 0x2c) {
      i++; // empty list element (RFC 9110 §5.6.1 allows them)
      continue;
    }
    if (i >= n) break;
    const name = token();
    if (name === '') return null;
    const ext: WsExtension = { name: name.toLowerCase(), params: [] };
    skipSpace();
    while (i < n && value.charCodeAt(i) === 0x3b /* ; */) {
      i++;
      skipSpace();
      const param = token();
      if (param === '') return null;
      skipSpace();
      let paramValue: string | true = true;
      if (i < n && value.charCodeAt(i) === 0x3d /* = */) {
        i++;
        skipSpace();
        if (i < n && value.charCodeAt(i) === 0x22 /* " */) {
          i++;
          let text = '';
          let closed = false;
          while (i < n) {
            const c = value.charCodeAt(i++);
            if (c === 0x22) {
              closed = true;
              break;
            }
            if (c === 0x5c /* \ */) {
              if (i >= n) return null;
              text += value[i++];
            } else {
              text += String.fromCharCode(c);
            }
          }
          if (!closed || text === '') return null;
          for (let k = 0; k < text.length; k++) {
            const c = text.charCodeAt(k);
            if (c >= 128 || TOKEN_CHARS[c] !== 1) return null;
          }
          paramValue = text;
        } else {
          paramValue = token();
          if (paramValue === '') return null;
        }
        skipSpace();
      }
      ext.params.push([param.toLowerCase(), paramValue]);
    }
    out.push(ext);
    if (i < n) {
      if (value.charCodeAt(i) !== 0x2c) return null;
      i++;
    }
  }
  return out;
}

/** Formats one extension for a `Sec-WebSocket-Extensions` field. */
export function formatWsExtension(ext: WsExtension): string {
  let out = ext.name;
  for (const [name, value] of ext.params) out += value === true ? `; ${name}` : `; ${name}=${value}`;
  return out;
}
