/**
 * Negotiation of permessage-deflate (RFC 7692 §5, §7.1) in the opening handshake:
 * - the client's offer (`offerPerMessageDeflate`),
 * - the server's choice among the client's offers and its response (`acceptPerMessageDeflate`,
 *   §7.1: an offer with an unknown, repeated or invalid parameter is declined, the next offer
 *   is tried),
 * - the client's check of the server's response (`confirmPerMessageDeflate`, §7.1: the client
 *   fails the connection on a response it cannot accept).
 * Window sizes are chosen so that the zlib memory fits `maxMemory` (see {@link zlibMemory}).
 */

import {
  type PerMessageDeflateOptions,
  type PerMessageDeflateParams,
  zlibMemory,
} from './per-message-deflate.js';
import { WsHandshakeError } from './ws-errors.js';
import { formatWsExtension, parseWsExtensions, type WsExtension } from './ws-extension-header.js';

const NAME = 'permessage-deflate';

/** Parsed parameters of one offer or response; null when one is unknown, repeated or invalid. */
interface DeflateParamSet {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 0 when absent. */
  serverMaxWindowBits: number;
  /** 0 when absent, -1 when present without a value. */
  clientMaxWindowBits: number;
}

/** RFC 7692 §7.1.2: 1*DIGIT from 8 to 15, no leading zero. */
function windowBits(value: string | true): number {
  if (value === true || value.length > 2 || value.charCodeAt(0) === 0x30) return 0;
  const n = Number(value);
  return Number.isInteger(n) && n >= 8 && n <= 15 ? n : 0;
}

function readParams(ext: WsExtension, isResponse: boolean): DeflateParamSet | null {
  const set: DeflateParamSet = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 0,
    clientMaxWindowBits: 0,
  };
  const seen = new Set<string>();
  for (const [name, value] of ext.params) {
    if (seen.has(name)) return null; // RFC 7692 §7.1: a parameter at most once
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
        if (value !== true) return null;
        set.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return null;
        set.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = windowBits(value);
        if (bits === 0) return null;
        set.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === true) {
          if (isResponse) return null; // §7.1.2.2: a response must give a value
          set.clientMaxWindowBits = -1;
          break;
        }
        const bits = windowBits(value);
        if (bits === 0) return null;
        set.clientMaxWindowBits = bits;
        break;
      }
      default:
        return null;
    }
  }
  return set;
}

function clampBits(bits: number | undefined): number {
  if (bits === undefined) return 15;
  return Math.min(15, Math.max(9, Math.floor(bits)));
}

/** The client's offer: `permessage-deflate; client_max_window_bits[...]` (RFC 7692 §7.1). */
export function offerPerMessageDeflate(options: PerMessageDeflateOptions): string {
  const ext: WsExtension = { name: NAME, params: [] };
  const client = clampBits(options.clientMaxWindowBits);
  const server = clampBits(options.serverMaxWindowBits);
  ext.params.push(['client_max_window_bits', client < 15 ? String(client) : true]);
  if (server < 15) ext.params.push(['server_max_window_bits', String(server)]);
  if (options.clientNoContextTakeover) ext.params.push(['client_no_context_takeover', true]);
  if (options.serverNoContextTakeover) ext.params.push(['server_no_context_takeover', true]);
  return formatWsExtension(ext);
}

/** The server's decision: the parameters and the `Sec-WebSocket-Extensions` response value. */
export interface PerMessageDeflateAcceptance {
  params: PerMessageDeflateParams;
  response: string;
}

/**
 * Picks the first acceptable permessage-deflate offer of a client's `Sec-WebSocket-Extensions`
 * value, or returns undefined to decline (no compression; the handshake goes on, §5).
 */
export function acceptPerMessageDeflate(
  header: string | undefined,
  options: PerMessageDeflateOptions,
): PerMessageDeflateAcceptance | undefined {
  if (header === undefined) return undefined;
  const extensions = parseWsExtensions(header);
  if (extensions === null) return undefined;
  const maxMemory = options.maxMemory ?? 524288;
  const memLevel = options.memLevel ?? 8;
  for (const ext of extensions) {
    if (ext.name !== NAME) continue;
    const offer = readParams(ext, false);
    if (offer === null) continue;
    // §7.1.2.1: we compress with at most what the client allows, and at most our own limit.
    let serverBits = clampBits(options.serverMaxWindowBits);
    if (offer.serverMaxWindowBits !== 0) {
      if (offer.serverMaxWindowBits < 9) continue; // a 256-byte window: zlib cannot compress so
      serverBits = Math.min(serverBits, offer.serverMaxWindowBits);
    }
    // §7.1.2.2: the client's window may only be limited if it offered client_max_window_bits.
    let clientBits = 15;
    const clientLimitable = offer.clientMaxWindowBits !== 0;
    if (clientLimitable) {
      clientBits = clampBits(options.clientMaxWindowBits);
      if (offer.clientMaxWindowBits > 0) clientBits = Math.min(clientBits, offer.clientMaxWindowBits);
    } else if (clampBits(options.clientMaxWindowBits) < 15) {
      continue;
    }
    // Fit the memory cap: shrink our window first, then the client's.
    while (zlibMemory(serverBits, memLevel, clientBits) > maxMemory && serverBits > 9) serverBits--;
    while (zlibMemory(serverBits, memLevel, clientBits) > maxMemory && clientLimitable && clientBits > 9)
      clientBits--;
    if (zlibMemory(serverBits, memLevel, clientBits) > maxMemory) continue;
    const params: PerMessageDeflateParams = {
      serverNoContextTakeover: offer.serverNoContextTakeover || (options.serverNoContextTakeover ?? false),
      clientNoContextTakeover: offer.clientNoContextTakeover || (options.clientNoContextTakeover ?? false),
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const response: WsExtension = { name: NAME, params: [] };
    if (params.serverNoContextTakeover) response.params.push(['server_no_context_takeover', true]);
    if (params.clientNoContextTakeover) response.params.push(['client_no_context_takeover', true]);
    if (offer.serverMaxWindowBits !== 0 || serverBits < 15) {
      response.params.push(['server_max_window_bits', String(serverBits)]);
    }
    if (clientLimitable && (offer.clientMaxWindowBits > 0 || clientBits < 15)) {
      response.params.push(['client_max_window_bits', String(clientBits)]);
    }
    return { params, response: formatWsExtension(response) };
  }
  return undefined;
}

/**
 * The client's check of the server's `Sec-WebSocket-Extensions` (RFC 6455 §4.1 item 6, RFC 7692
 * §7.1): undefined when the server declined compression, else the negotiated parameters. Throws
 * {@link WsHandshakeError} `AVX_WS_BAD_EXTENSIONS` for anything we did not offer or cannot honour.
 */
export function confirmPerMessageDeflate(
  header: string | undefined,
  options: PerMessageDeflateOptions | undefined,
): PerMessageDeflateParams | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const fail = (why: string) =>
    new WsHandshakeError(
      'AVX_WS_BAD_EXTENSIONS',
      `the server's Sec-WebSocket-Extensions ${why} (RFC 6455 §4.1)`,
      101,
    );
  if (options === undefined) throw fail('names an extension we did not offer');
  const extensions = parseWsExtensions(header);
  if (extensions === null) throw fail('is malformed');
  if (extensions.length !== 1 || extensions[0].name !== NAME)
    throw fail('names an extension we did not offer');
  const got = readParams(extensions[0], true);
  if (got === null)
    throw fail('has an unknown, repeated or invalid permessage-deflate parameter (RFC 7692 §7.1)');
  const offeredServer = clampBits(options.serverMaxWindowBits);
  const offeredClient = clampBits(options.clientMaxWindowBits);
  if (offeredServer < 15 && (got.serverMaxWindowBits === 0 || got.serverMaxWindowBits > offeredServer)) {
    throw fail(`does not keep server_max_window_bits within ${offeredServer} (RFC 7692 §7.1.2.1)`);
  }
  if (got.clientMaxWindowBits > offeredClient) {
    throw fail(`raises client_max_window_bits above ${offeredClient} (RFC 7692 §7.1.2.2)`);
  }
  if (got.clientMaxWindowBits === 8)
    throw fail('asks for an 8-bit client window, which zlib cannot compress with');
  return {
    serverNoContextTakeover: got.serverNoContextTakeover,
    clientNoContextTakeover: got.clientNoContextTakeover || (options.clientNoContextTakeover ?? false),
    serverMaxWindowBits: got.serverMaxWindowBits === 0 ? 15 : got.serverMaxWindowBits,
    clientMaxWindowBits: got.clientMaxWindowBits > 0 ? got.clientMaxWindowBits : offeredClient,
  };
}
