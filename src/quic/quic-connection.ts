/**
 * A sans-I/O QUIC version 1 connection (RFC 9000, RFC 9001, RFC 9002), client or server role.
 * Datagrams go in with `receiveDatagram(bytes, now)`, datagrams to send come out of
 * `pollDatagrams(now)`, and time is an input: `nextTimeout()` says when to call
 * `onTimeout(now)`. No sockets, no timers, no clock. Times are milliseconds on any clock.
 *
 * Implemented: the handshake over CRYPTO frames with {@link Tls13Client} / {@link Tls13Server}
 * (RFC 9001 §4), the three packet number spaces and their keys (§4.1.4), key discard (§4.9),
 * coalescing and Initial padding (RFC 9000 §12.2, §14.1), ACK generation (§13.2), HANDSHAKE_DONE
 * (§19.20), the server's anti-amplification limit (§8.1), connection id authentication via
 * transport parameters (§7.3), streams with flow control (§2-§4), RESET_STREAM / STOP_SENDING
 * (§3), loss detection and PTO (RFC 9002 §5-§6), NewReno congestion control (RFC 9002 §7),
 * idle timeout (§10.1) and immediate close with closing / draining (§10.2).
 *
 * The pieces live in their own files: packet number spaces (quic-packet-number-space.ts), ACK
 * generation (quic-ack-tracker.ts), sent packets and loss detection (quic-sent-packets.ts), RTT
 * estimation (quic-rtt-estimator.ts), NewReno (quic-congestion-controller.ts), streams and their
 * flow control (quic-stream.ts) and reassembly (quic-reassembly.ts). This file keeps what spans
 * them: packets in and out, frames, the PTO timer (RFC 9002 §6.2, Appendix A.8), connection-level
 * flow control and stream limits (RFC 9000 §4.1, §4.6), timers and closing.
 *
 * Not implemented: Retry, version negotiation, 0-RTT, key update, connection migration, new
 * connection ids (retirement), stateless reset, ECN, persistent congestion, pacing.
 */
import { randomBytes } from 'node:crypto';
import { Tls13Error } from '../tls13/tls13-error.js';
import {
  Tls13Client,
  type Tls13ClientOptions,
  type Tls13Event,
  Tls13Server,
  type Tls13ServerOptions,
} from '../tls13/tls13-handshake.js';
import { QuicCongestionController } from './quic-congestion-controller.js';
import { QuicTransportErrorCode as E, QuicError } from './quic-error.js';
import { parseQuicFrames } from './quic-frame-parser.js';
import type { QuicAckRange, QuicCryptoFrame, QuicFrame, QuicStreamFrame } from './quic-frame-types.js';
import { encodeQuicFrames, quicFrameSize } from './quic-frame-writer.js';
import { deriveQuicPacketKeys, quicInitialKeys } from './quic-initial-secrets.js';
import {
  parseQuicPacketHeader,
  QUIC_VERSION_1,
  quicPacketNumberLength,
  writeQuicLongHeader,
  writeQuicShortHeader,
} from './quic-packet-header.js';
import {
  QUIC_SPACE_LEVEL as LEVEL_OF,
  QUIC_SPACE_PACKET_TYPE as PACKET_TYPE_OF,
  QuicPacketNumberSpace,
  QUIC_PACKET_NUMBER_SPACES as SPACES,
  type QuicPacketNumberSpaceIndex as SpaceIndex,
} from './quic-packet-number-space.js';
import { protectQuicPacket, QUIC_AEAD_TAG_LENGTH, unprotectQuicPacket } from './quic-packet-protection.js';
import { QuicRttEstimator } from './quic-rtt-estimator.js';
import type { QuicSentPacket } from './quic-sent-packets.js';
import { QuicStream } from './quic-stream.js';
import {
  decodeQuicTransportParameters,
  defaultQuicTransportParameters,
  encodeQuicTransportParameters,
  type QuicTransportParameters,
} from './quic-transport-parameters.js';

export { QuicReassembly } from './quic-reassembly.js';

/** Limits and settings of a connection; each is advertised to the peer where §18.2 says so. */
export interface QuicConnectionLimits {
  /** Idle timeout in ms (§10.1); default 30000; 0 disables ours. */
  maxIdleTimeout?: number;
  /** Connection-level receive window in bytes (MAX_DATA); default 1048576. */
  maxData?: number;
  /** Receive window of each stream in bytes (MAX_STREAM_DATA); default 262144. */
  maxStreamData?: number;
  /** Bidirectional streams the peer may have open; default 100. */
  maxStreamsBidi?: number;
  /** Unidirectional streams the peer may have open; default 100. */
  maxStreamsUni?: number;
  /** Bytes of CRYPTO data buffered beyond what was delivered, per level; default 65536. */
  maxCryptoBuffer?: number;
  /** Our max_ack_delay in ms (§18.2); default 25. */
  maxAckDelay?: number;
  /** Size of the datagrams we build, in bytes; default 1200. */
  maxDatagramSize?: number;
  /**
   * Receive-side backpressure (RFC 9000 §4.1, §4.2); default false. When false, flow-control
   * credit (MAX_STREAM_DATA, MAX_DATA) is returned as soon as data is delivered in a
   * `stream_data` event. When true, it is returned only for bytes the user reports consumed with
   * {@link QuicConnection.consumeStream}, so a reader that does not consume stops the sender
   * after one window.
   */
  manualCredit?: boolean;
}

/** Options of a client connection. */
export interface QuicClientOptions extends QuicConnectionLimits {
  role: 'client';
  /** TLS options (server name, trust anchors, ALPN, certificate check time); the transport parameters are ours. */
  tls: Omit<Tls13ClientOptions, 'transportParameters'>;
  /** Our connection id (8 bytes); default random. */
  sourceConnectionId?: Uint8Array;
  /** The first Destination Connection ID (at least 8 bytes, §7.2); default random. */
  destinationConnectionId?: Uint8Array;
}

/** Options of a server connection (one per client; the driver routes datagrams by DCID). */
export interface QuicServerOptions extends QuicConnectionLimits {
  role: 'server';
  /** TLS options (certificate chain, private key, ALPN); the transport parameters are ours. */
  tls: Omit<Tls13ServerOptions, 'transportParameters'>;
  /** Our connection id (8 bytes); default random. */
  sourceConnectionId?: Uint8Array;
}

/** Options of {@link QuicConnection}. */
export type QuicConnectionOptions = QuicClientOptions | QuicServerOptions;

/** What a connection tells its user. */
export type QuicConnectionEvent =
  | { type: 'handshake_complete'; alpn: string | undefined; peerTransportParameters: QuicTransportParameters }
  | { type: 'stream_data'; streamId: number; data: Uint8Array }
  | { type: 'stream_end'; streamId: number }
  | { type: 'stream_reset'; streamId: number; errorCode: bigint; finalSize: number }
  | { type: 'stop_sending'; streamId: number; errorCode: bigint }
  | {
      type: 'connection_closed';
      /** Who ended it: a CONNECTION_CLOSE from the peer, our close (or error), or the idle timer. */
      by: 'peer' | 'local' | 'idle';
      application: boolean;
      errorCode: bigint;
      reason: string;
    };

/** Connection states (RFC 9000 §10). */
export type QuicConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'closed';

const CID_LENGTH = 8;
const MIN_INITIAL_DATAGRAM = 1200;
const MAX_DATAGRAMS_PER_POLL = 64;

function connectionError(errorCode: number, message: string, frameType = 0): QuicError {
  return new QuicError('AVX_QUIC_PROTOCOL_VIOLATION', errorCode, message, frameType);
}

function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A QUIC v1 connection, client or server (see the file comment). */
export class QuicConnection {
  readonly role: 'client' | 'server';
  /** Our connection id. */
  readonly sourceConnectionId: Uint8Array;
  private peerConnectionId: Uint8Array;
  private originalDcid: Uint8Array | undefined;
  private peerInitialScid: Uint8Array | undefined;
  private readonly options: QuicConnectionOptions;
  private tls: Tls13Client | Tls13Server | undefined;
  private readonly spaces: QuicPacketNumberSpace[] = [
    new QuicPacketNumberSpace(),
    new QuicPacketNumberSpace(),
    new QuicPacketNumberSpace(),
  ];
  private events: QuicConnectionEvent[] = [];
  private stateValue: QuicConnectionState = 'handshake';
  private handshakeComplete = false;
  private handshakeConfirmed = false;
  private local: QuicTransportParameters;
  private peer: QuicTransportParameters = defaultQuicTransportParameters();
  private readonly maxDatagramSize: number;
  private readonly maxCryptoBuffer: number;

  // Anti-amplification (RFC 9000 §8.1).
  private addressValidated: boolean;
  private bytesReceived = 0;
  private bytesSent = 0;

  // Loss recovery (RFC 9002 §5-§7).
  private readonly rttEstimator = new QuicRttEstimator();
  private readonly congestion: QuicCongestionController;
  private ptoCount = 0;
  private lossTimer: { time: number; space: SpaceIndex; kind: 'loss' | 'pto' } | undefined;

  // Idle and close (RFC 9000 §10).
  private idleDeadline: number | undefined;
  private ackElicitingSentSinceReceive = false;
  private closeFrame: QuicFrame | undefined;
  private closePending = false;
  private closeDeadline: number | undefined;

  // Streams (RFC 9000 §2-§4).
  private readonly streams = new Map<number, QuicStream>();
  private readonly localOpened = [0, 0]; // [bidi, uni]
  private readonly peerOpened = [0, 0];
  private peerMaxStreams = [0, 0];
  private localMaxStreams: number[];
  private maxStreamsDirty = [false, false];
  private peerClosedStreams = [0, 0];
  private sentData = 0;
  private receivedData = 0;
  private consumedData = 0;
  private receiveMaxData: number;
  private receiveMaxDataAdvertised: number;
  private maxDataDirty = false;
  private readonly manualCredit: boolean;

  constructor(options: QuicConnectionOptions) {
    this.options = options;
    this.role = options.role;
    this.sourceConnectionId = options.sourceConnectionId ?? randomBytes(CID_LENGTH);
    if (this.sourceConnectionId.length !== CID_LENGTH)
      throw new RangeError('connection ids are 8 bytes here');
    this.maxDatagramSize = options.maxDatagramSize ?? 1200;
    this.manualCredit = options.manualCredit ?? false;
    this.maxCryptoBuffer = options.maxCryptoBuffer ?? 65536;
    this.congestion = new QuicCongestionController(this.maxDatagramSize);
    const streamWindow = options.maxStreamData ?? 262144;
    this.local = {
      ...defaultQuicTransportParameters(),
      maxIdleTimeout: options.maxIdleTimeout ?? 30000,
      initialMaxData: options.maxData ?? 1048576,
      initialMaxStreamDataBidiLocal: streamWindow,
      initialMaxStreamDataBidiRemote: streamWindow,
      initialMaxStreamDataUni: streamWindow,
      initialMaxStreamsBidi: options.maxStreamsBidi ?? 100,
      initialMaxStreamsUni: options.maxStreamsUni ?? 100,
      maxAckDelay: options.maxAckDelay ?? 25,
      maxUdpPayloadSize: 65527,
      initialSourceConnectionId: this.sourceConnectionId,
    };
    this.localMaxStreams = [this.local.initialMaxStreamsBidi, this.local.initialMaxStreamsUni];
    this.receiveMaxData = this.local.initialMaxData;
    this.receiveMaxDataAdvertised = this.local.initialMaxData;
    this.addressValidated = options.role === 'client';
    if (options.role === 'client') {
      const dcid = options.destinationConnectionId ?? randomBytes(CID_LENGTH);
      if (dcid.length < 8) throw new RangeError('the first DCID must be at least 8 bytes (RFC 9000 §7.2)');
      this.originalDcid = dcid;
      this.peerConnectionId = dcid;
      this.installInitialKeys(dcid);
      const client = new Tls13Client({
        ...options.tls,
        transportParameters: encodeQuicTransportParameters(this.local),
      });
      this.tls = client;
      this.handleTlsEvents(client.start());
    } else {
      this.peerConnectionId = new Uint8Array(0);
    }
  }

  /** The connection's state (RFC 9000 §10). */
  get state(): QuicConnectionState {
    return this.stateValue;
  }

  /** Smoothed RTT estimate in ms (RFC 9002 §5.3). */
  get rtt(): number {
    return this.rttEstimator.smoothedRtt;
  }

  /**
   * Stream bytes received (up to the highest offset of each stream) and not yet consumed, in
   * bytes: what the connection-level window (MAX_DATA, RFC 9000 §4.1) currently holds.
   */
  get unconsumedBytes(): number {
    return this.receivedData - this.consumedData;
  }

  /** Current congestion window in bytes (RFC 9002 §7). */
  get congestionWindowBytes(): number {
    return this.congestion.congestionWindow;
  }

  private isEnding(): boolean {
    const st: QuicConnectionState = this.stateValue;
    return st === 'closing' || st === 'draining' || st === 'closed';
  }

  private installInitialKeys(dcid: Uint8Array): void {
    const keys = quicInitialKeys(dcid);
    const s = this.spaces[0]!;
    s.writeKeys = this.role === 'client' ? keys.client : keys.server;
    s.readKeys = this.role === 'client' ? keys.server : keys.client;
  }

  private takeEvents(): QuicConnectionEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Processes one UDP datagram received at `now`; returns the events it caused. */
  receiveDatagram(datagram: Uint8Array, now: number): QuicConnectionEvent[] {
    if (this.stateValue === 'closed' || this.stateValue === 'draining') return this.takeEvents();
    this.bytesReceived += datagram.length;
    let offset = 0;
    while (offset < datagram.length) {
      let end: number;
      try {
        end = this.receivePacket(datagram, offset, now);
      } catch (e) {
        if (e instanceof QuicError && !e.isConnectionError) break; // drop the rest (§12.2)
        this.failWith(e);
        break;
      }
      if (end <= offset) break;
      offset = end;
    }
    this.setLossTimer(now);
    return this.takeEvents();
  }

  /** Handles the packet at `offset`; returns its end. Throws for connection errors. */
  private receivePacket(datagram: Uint8Array, offset: number, now: number): number {
    const header = parseQuicPacketHeader(datagram, offset, CID_LENGTH);
    if (
      header.type === 'version_negotiation' ||
      header.type === 'unknown_version' ||
      header.type === 'retry'
    ) {
      return header.packetEnd; // not supported: ignored
    }
    if (header.type === '0rtt') return header.packetEnd;
    const space: SpaceIndex = header.type === 'initial' ? 0 : header.type === 'handshake' ? 1 : 2;
    if (header.form === 'long' && header.version !== QUIC_VERSION_1) return header.packetEnd;
    if (this.role === 'server' && this.tls === undefined) {
      // The first packet of a connection: an Initial in a datagram of 1200 bytes (§14.1).
      if (header.type !== 'initial' || datagram.length < MIN_INITIAL_DATAGRAM || header.dcid.length < 8) {
        return datagram.length;
      }
      this.originalDcid = header.dcid.slice();
      this.peerConnectionId = header.scid.slice();
      this.peerInitialScid = header.scid.slice();
      this.installInitialKeys(this.originalDcid);
      this.local.originalDestinationConnectionId = this.originalDcid;
      const serverOptions = this.options as QuicServerOptions;
      this.tls = new Tls13Server({
        ...serverOptions.tls,
        transportParameters: encodeQuicTransportParameters(this.local),
      });
    }
    // The DCID must be ours (or, for a server's early Initials, the client's chosen one).
    if (
      !equalBytes(header.dcid, this.sourceConnectionId) &&
      !(this.role === 'server' && space === 0 && equalBytes(header.dcid, this.originalDcid))
    ) {
      return header.packetEnd;
    }
    const s = this.spaces[space]!;
    if (s.discarded || s.readKeys === undefined) return header.packetEnd;
    // RFC 9001 §5.7: a server must not process 1-RTT packets before the handshake completes.
    if (space === 2 && !this.handshakeComplete) return header.packetEnd;
    const packet = unprotectQuicPacket(
      s.readKeys,
      datagram.subarray(offset, header.packetEnd),
      header.pnOffset - offset,
      s.acks.largestReceived,
    );
    if (s.acks.hasReceived(packet.packetNumber)) return header.packetEnd; // duplicate
    if (
      this.role === 'client' &&
      space === 0 &&
      this.peerInitialScid === undefined &&
      header.form === 'long'
    ) {
      // §7.2: the client switches to the server's chosen connection id.
      this.peerInitialScid = header.scid.slice();
      this.peerConnectionId = header.scid.slice();
    }
    const frames = parseQuicFrames(packet.payload, PACKET_TYPE_OF[space]);
    if (this.stateValue === 'closing') {
      // §10.2.1: answer with CONNECTION_CLOSE again.
      for (const f of frames) {
        if (f.type === 'connection_close')
          this.enterDraining(now, f.application, f.errorCode, f.reason, false);
      }
      if (this.stateValue === 'closing') this.closePending = true;
      return header.packetEnd;
    }
    s.acks.recordReceived(packet.packetNumber);
    let ackEliciting = false;
    for (const frame of frames) {
      if (frame.type !== 'ack' && frame.type !== 'padding' && frame.type !== 'connection_close')
        ackEliciting = true;
      this.receiveFrame(space, frame, now);
      if (this.isEnding()) return header.packetEnd;
    }
    if (ackEliciting) {
      s.acks.onAckElicitingReceived(packet.packetNumber, now, space !== 2, this.local.maxAckDelay);
    }
    // §8.1: a Handshake packet from the client validates its address; RFC 9001 §4.9.1: the
    // server discards its Initial keys when it first processes a Handshake packet.
    if (space === 1 && this.role === 'server') {
      this.addressValidated = true;
      this.discardSpace(0);
    }
    this.restartIdleTimer(now);
    this.ackElicitingSentSinceReceive = false;
    return header.packetEnd;
  }

  private receiveFrame(space: SpaceIndex, frame: QuicFrame, now: number): void {
    switch (frame.type) {
      case 'padding':
      case 'ping':
        return;
      case 'ack':
        this.onAckReceived(space, frame.ranges, frame.ackDelay, now);
        return;
      case 'crypto':
        this.onCrypto(space, frame);
        return;
      case 'handshake_done':
        if (this.role === 'server') {
          throw connectionError(E.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE from a client (RFC 9000 §19.20)', 0x1e);
        }
        if (!this.handshakeConfirmed) {
          this.handshakeConfirmed = true;
          this.discardSpace(1); // RFC 9001 §4.9.2
        }
        return;
      case 'new_token':
        if (this.role === 'server')
          throw connectionError(E.PROTOCOL_VIOLATION, 'NEW_TOKEN from a client (RFC 9000 §19.7)', 0x07);
        return;
      case 'connection_close':
        this.enterDraining(now, frame.application, frame.errorCode, frame.reason, true);
        return;
      case 'path_challenge':
        this.spaces[2]!.control.push({ type: 'path_response', data: frame.data.slice() });
        return;
      case 'stream':
        this.onStreamFrame(frame);
        return;
      case 'reset_stream': {
        const st = this.peerStream(frame.streamId, 'receive', 0x04);
        if (st === undefined || st.receiveDone) return;
        if (
          frame.finalSize < st.receivedHighest ||
          (st.finalSize !== undefined && st.finalSize !== frame.finalSize)
        ) {
          throw connectionError(
            E.FINAL_SIZE_ERROR,
            'RESET_STREAM changes the final size (RFC 9000 §4.5)',
            0x04,
          );
        }
        this.accountReceived(st, frame.finalSize);
        st.finalSize = frame.finalSize;
        st.receiveDone = true;
        this.events.push({
          type: 'stream_reset',
          streamId: st.id,
          errorCode: frame.errorCode,
          finalSize: frame.finalSize,
        });
        // The flow control credit of the data that will never be read is released (§4.5).
        this.consumeConnection(frame.finalSize - st.consumed);
        st.consumed = frame.finalSize;
        this.maybeRetire(st);
        return;
      }
      case 'stop_sending': {
        const st = this.peerStream(frame.streamId, 'send', 0x05);
        if (st === undefined) return;
        this.events.push({ type: 'stop_sending', streamId: st.id, errorCode: frame.errorCode });
        if (!st.resetSent && !(st.finSent && st.sendQueued === 0)) this.resetStream(st.id, frame.errorCode);
        return;
      }
      case 'max_data':
        if (frame.maximumData > this.peer.initialMaxData) this.peer.initialMaxData = frame.maximumData;
        return;
      case 'max_stream_data': {
        const st = this.peerStream(frame.streamId, 'send', 0x11);
        if (st !== undefined && frame.maximumStreamData > st.sendMax) st.sendMax = frame.maximumStreamData;
        return;
      }
      case 'max_streams': {
        const i = frame.bidirectional ? 0 : 1;
        if (frame.maximumStreams > this.peerMaxStreams[i]!) this.peerMaxStreams[i] = frame.maximumStreams;
        return;
      }
      case 'data_blocked':
      case 'stream_data_blocked':
      case 'streams_blocked':
      case 'new_connection_id':
      case 'retire_connection_id':
      case 'path_response':
        return;
    }
  }

  private onCrypto(space: SpaceIndex, frame: QuicCryptoFrame): void {
    const s = this.spaces[space]!;
    const end = frame.offset + frame.data.length;
    if (end - s.cryptoReceived.delivered > this.maxCryptoBuffer) {
      throw new QuicError(
        'AVX_QUIC_CRYPTO_BUFFER',
        E.CRYPTO_BUFFER_EXCEEDED,
        'CRYPTO data beyond the buffer limit (RFC 9000 §7.5)',
        0x06,
      );
    }
    s.cryptoReceived.insert(frame.offset, frame.data);
    for (const piece of s.cryptoReceived.take()) {
      if (this.tls === undefined) return;
      let events: Tls13Event[];
      try {
        events = this.tls.receive(LEVEL_OF[space]!, piece);
      } catch (e) {
        if (e instanceof Tls13Error) {
          throw new QuicError('AVX_QUIC_PROTOCOL_VIOLATION', e.quicErrorCode, e.message, 0x06);
        }
        throw e;
      }
      this.handleTlsEvents(events);
    }
  }

  private handleTlsEvents(events: Tls13Event[]): void {
    for (const e of events) {
      if (e.type === 'send') {
        const space: SpaceIndex = e.level === 'initial' ? 0 : e.level === 'handshake' ? 1 : 2;
        const s = this.spaces[space]!;
        s.cryptoPending.push({ type: 'crypto', offset: s.cryptoSendOffset, data: e.bytes });
        s.cryptoSendOffset += e.bytes.length;
      } else if (e.type === 'keys') {
        const s = this.spaces[e.level === 'handshake' ? 1 : 2]!;
        const keys = deriveQuicPacketKeys(e.secret, e.suite.aead);
        if (e.direction === 'read') s.readKeys = keys;
        else s.writeKeys = keys;
      } else if (e.type === 'complete') {
        this.onHandshakeComplete(e.alpn, e.peerTransportParameters);
      }
    }
  }

  /** RFC 9000 §7.3, §7.4: authenticate the connection ids and apply the peer's parameters. */
  private onHandshakeComplete(alpn: string | undefined, raw: Uint8Array | undefined): void {
    if (raw === undefined) throw connectionError(E.TRANSPORT_PARAMETER_ERROR, 'no transport parameters');
    const peerRole = this.role === 'client' ? 'server' : 'client';
    const tp = decodeQuicTransportParameters(raw, peerRole);
    if (!equalBytes(tp.initialSourceConnectionId, this.peerInitialScid)) {
      throw connectionError(
        E.TRANSPORT_PARAMETER_ERROR,
        'initial_source_connection_id does not match the Source Connection ID of the peer (RFC 9000 §7.3)',
      );
    }
    if (this.role === 'client') {
      if (!equalBytes(tp.originalDestinationConnectionId, this.originalDcid)) {
        throw connectionError(
          E.TRANSPORT_PARAMETER_ERROR,
          'original_destination_connection_id does not match our first DCID (RFC 9000 §7.3)',
        );
      }
      if (tp.retrySourceConnectionId !== undefined) {
        throw connectionError(
          E.TRANSPORT_PARAMETER_ERROR,
          'retry_source_connection_id without a Retry (RFC 9000 §7.3)',
        );
      }
    }
    this.peer = tp;
    this.peerMaxStreams = [tp.initialMaxStreamsBidi, tp.initialMaxStreamsUni];
    for (const st of this.streams.values()) st.sendMax = this.initialSendMax(st.id);
    this.handshakeComplete = true;
    this.stateValue = 'established';
    if (this.role === 'server') {
      // RFC 9001 §4.1.2: the handshake is confirmed at the server when it completes.
      this.handshakeConfirmed = true;
      this.spaces[2]!.control.push({ type: 'handshake_done' });
      this.discardSpace(1);
    }
    this.events.push({ type: 'handshake_complete', alpn, peerTransportParameters: tp });
  }

  // ---------------------------------------------------------------------------------------------
  // Streams

  private isLocal(id: number): boolean {
    return (id & 1) === (this.role === 'server' ? 1 : 0);
  }

  private initialSendMax(id: number): number {
    if ((id & 2) !== 0) return this.peer.initialMaxStreamDataUni;
    return this.isLocal(id)
      ? this.peer.initialMaxStreamDataBidiRemote
      : this.peer.initialMaxStreamDataBidiLocal;
  }

  private newStream(id: number): QuicStream {
    const uni = (id & 2) !== 0;
    const local = this.isLocal(id);
    const st = new QuicStream(
      id,
      !uni || local,
      !uni || !local,
      this.initialSendMax(id),
      uni ? this.local.initialMaxStreamDataUni : this.local.initialMaxStreamDataBidiLocal,
    );
    this.streams.set(id, st);
    return st;
  }

  /**
   * The stream a frame of the peer refers to (RFC 9000 §2.1, §3, §4.6), opening peer streams up
   * to it; undefined when it is already closed. `need` is the direction the frame acts on.
   */
  private peerStream(id: number, need: 'send' | 'receive', frameType: number): QuicStream | undefined {
    const uni = (id & 2) !== 0;
    const local = this.isLocal(id);
    const index = Math.floor(id / 4);
    const kind = uni ? 1 : 0;
    if (uni && ((need === 'receive' && local) || (need === 'send' && !local))) {
      throw connectionError(
        E.STREAM_STATE_ERROR,
        `stream ${id} cannot be used that way (RFC 9000 §19)`,
        frameType,
      );
    }
    if (local) {
      if (index >= this.localOpened[kind]!) {
        throw connectionError(
          E.STREAM_STATE_ERROR,
          `stream ${id} was not opened (RFC 9000 §19.8)`,
          frameType,
        );
      }
      return this.streams.get(id);
    }
    if (index >= this.localMaxStreams[kind]!) {
      throw new QuicError(
        'AVX_QUIC_STREAM_LIMIT',
        E.STREAM_LIMIT_ERROR,
        `stream ${id} is beyond the stream limit (RFC 9000 §4.6)`,
        frameType,
      );
    }
    for (let i = this.peerOpened[kind]!; i <= index; i++) this.newStream(i * 4 + (id & 3));
    if (index >= this.peerOpened[kind]!) this.peerOpened[kind] = index + 1;
    return this.streams.get(id);
  }

  /** Stream and connection flow control of data received up to `end` on `st` (RFC 9000 §4.1). */
  private accountReceived(st: QuicStream, end: number): void {
    const added = st.accountReceived(end);
    if (added > 0) {
      this.receivedData += added;
      if (this.receivedData > this.receiveMaxDataAdvertised) {
        throw new QuicError(
          'AVX_QUIC_FLOW_CONTROL',
          E.FLOW_CONTROL_ERROR,
          'data beyond MAX_DATA (RFC 9000 §4.1)',
        );
      }
    }
  }

  private onStreamFrame(frame: QuicStreamFrame): void {
    const st = this.peerStream(frame.streamId, 'receive', 0x08);
    if (st === undefined || st.receiveDone) return;
    const end = frame.offset + frame.data.length;
    if (st.finalSize !== undefined && (end > st.finalSize || (frame.fin && end !== st.finalSize))) {
      throw connectionError(
        E.FINAL_SIZE_ERROR,
        `stream ${st.id} data beyond its final size (RFC 9000 §4.5)`,
        0x08,
      );
    }
    if (frame.fin && end < st.receivedHighest) {
      throw connectionError(
        E.FINAL_SIZE_ERROR,
        `stream ${st.id} final size below data received (RFC 9000 §4.5)`,
        0x08,
      );
    }
    this.accountReceived(st, end);
    if (frame.fin) st.finalSize = end;
    st.received.insert(frame.offset, frame.data);
    for (const piece of st.received.take()) {
      this.events.push({ type: 'stream_data', streamId: st.id, data: piece });
      if (!this.manualCredit) this.consumeConnection(st.consume(piece.length));
    }
    if (st.finalSize !== undefined && st.received.delivered === st.finalSize) {
      st.receiveDone = true;
      this.events.push({ type: 'stream_end', streamId: st.id });
      this.maybeRetire(st);
    }
  }

  private consumeConnection(n: number): void {
    this.consumedData += n;
    const window = this.local.initialMaxData;
    if (this.consumedData + window / 2 >= this.receiveMaxData) {
      this.receiveMaxData = this.consumedData + window;
      this.maxDataDirty = true;
    }
  }

  /** When both directions of a peer's stream are done, the peer may open another (§4.6). */
  private maybeRetire(st: QuicStream): void {
    if (st.counted || this.isLocal(st.id) || !st.receiveDone || !st.sendDone) return;
    st.counted = true;
    const kind = (st.id & 2) !== 0 ? 1 : 0;
    this.peerClosedStreams[kind]!++;
    this.localMaxStreams[kind] =
      (kind === 0 ? this.local.initialMaxStreamsBidi : this.local.initialMaxStreamsUni) +
      this.peerClosedStreams[kind]!;
    this.maxStreamsDirty[kind] = true;
  }

  /**
   * Opens a stream of ours (RFC 9000 §2.1) and returns its id. Throws {@link QuicError}
   * STREAM_LIMIT_ERROR when the peer's MAX_STREAMS does not allow another yet.
   */
  openStream(bidirectional = true): number {
    const kind = bidirectional ? 0 : 1;
    if (this.localOpened[kind]! >= this.peerMaxStreams[kind]!) {
      throw new QuicError(
        'AVX_QUIC_STREAM_LIMIT',
        E.STREAM_LIMIT_ERROR,
        'the peer allows no more streams (RFC 9000 §4.6)',
      );
    }
    const id = this.localOpened[kind]! * 4 + (bidirectional ? 0 : 2) + (this.role === 'server' ? 1 : 0);
    this.localOpened[kind]!++;
    this.newStream(id);
    return id;
  }

  /** Whether another stream of that kind may be opened now. */
  canOpenStream(bidirectional = true): boolean {
    const kind = bidirectional ? 0 : 1;
    return this.localOpened[kind]! < this.peerMaxStreams[kind]!;
  }

  private sendableStream(streamId: number): QuicStream {
    const st = this.streams.get(streamId);
    if (st === undefined || !st.canSend) {
      throw connectionError(E.STREAM_STATE_ERROR, `stream ${streamId} is not open for sending`);
    }
    return st;
  }

  /** Queues `data` (and the end of the stream when `fin`) on a stream (RFC 9000 §2.2). */
  writeStream(streamId: number, data: Uint8Array, fin = false): void {
    const st = this.sendableStream(streamId);
    if (st.finQueued || st.resetSent)
      throw connectionError(E.STREAM_STATE_ERROR, `stream ${streamId} is finished`);
    st.queue(data, fin);
  }

  /** Abandons sending on a stream with RESET_STREAM (RFC 9000 §19.4). */
  resetStream(streamId: number, errorCode: bigint): void {
    const st = this.sendableStream(streamId);
    if (st.resetSent) return;
    st.abandonSending();
    this.spaces[2]!.control.push({ type: 'reset_stream', streamId, errorCode, finalSize: st.sendOffset });
    this.maybeRetire(st);
  }

  /**
   * With {@link QuicConnectionLimits.manualCredit}: the user has consumed `bytes` more of the
   * data delivered on `streamId`, so their flow-control credit goes back to the peer (RFC 9000
   * §4.2); MAX_STREAM_DATA / MAX_DATA are sent once the consumed data passes half the window.
   * `bytes` is capped at what was delivered and not yet consumed, so passing
   * `Number.POSITIVE_INFINITY` releases everything delivered (for a reader that gives up).
   * Does nothing for an unknown stream or without manual credit (credit is then automatic).
   */
  consumeStream(streamId: number, bytes: number): void {
    if (!this.manualCredit) return;
    const st = this.streams.get(streamId);
    if (st === undefined || !st.canReceive) return;
    this.consumeConnection(st.consume(bytes));
  }

  /** Asks the peer to stop sending on a stream with STOP_SENDING (RFC 9000 §19.5). */
  stopSending(streamId: number, errorCode: bigint): void {
    const st = this.streams.get(streamId);
    if (st === undefined || !st.canReceive) {
      throw connectionError(E.STREAM_STATE_ERROR, `stream ${streamId} is not open for receiving`);
    }
    if (!st.receiveDone) this.spaces[2]!.control.push({ type: 'stop_sending', streamId, errorCode });
  }

  // ---------------------------------------------------------------------------------------------
  // Loss recovery (RFC 9002)

  private onAckReceived(space: SpaceIndex, ranges: QuicAckRange[], ackDelayField: number, now: number): void {
    const s = this.spaces[space]!;
    const largest = ranges[0]!.largest;
    if (largest >= s.nextPacketNumber) {
      throw connectionError(E.PROTOCOL_VIOLATION, 'ACK of a packet never sent (RFC 9000 §13.1)', 0x02);
    }
    const acked: QuicSentPacket[] = [];
    const rttSample = s.sent.takeAcked(ranges, acked);
    if (acked.length === 0) return;
    if (rttSample !== undefined) {
      let ackDelay = 0;
      if (space === 2) {
        ackDelay = (ackDelayField * 2 ** this.peer.ackDelayExponent) / 1000;
        if (this.handshakeConfirmed) ackDelay = Math.min(ackDelay, this.peer.maxAckDelay);
      }
      this.rttEstimator.update(now - rttSample.timeSent, ackDelay);
    }
    for (const p of acked) if (p.inFlight) this.congestion.onPacketAcked(p.size, p.timeSent);
    this.detectLostPackets(space, now);
    this.ptoCount = 0;
  }

  private detectLostPackets(space: SpaceIndex, now: number): void {
    // RFC 9002 §6.1, Appendix A.10.
    const lost = this.spaces[space]!.sent.detectLost(now, this.rttEstimator.lossDelay());
    let largestLostTime: number | undefined;
    for (const p of lost) {
      if (p.inFlight) {
        this.congestion.removeFromFlight(p.size);
        largestLostTime = Math.max(largestLostTime ?? p.timeSent, p.timeSent);
      }
      this.requeue(space, p.frames);
    }
    if (largestLostTime !== undefined) this.congestion.onCongestionEvent(largestLostTime, now);
  }

  /** Puts the frames of a lost packet back in the queues (RFC 9000 §13.3). */
  private requeue(space: SpaceIndex, frames: QuicFrame[]): void {
    const s = this.spaces[space]!;
    for (const f of frames) {
      switch (f.type) {
        case 'crypto':
          s.cryptoPending.unshift(f);
          break;
        case 'stream': {
          const st = this.streams.get(f.streamId);
          if (st !== undefined && !st.resetSent) st.retransmit.push(f);
          break;
        }
        case 'max_data':
          this.maxDataDirty = true;
          break;
        case 'max_stream_data': {
          const st = this.streams.get(f.streamId);
          if (st !== undefined && !st.receiveDone) st.maxStreamDataDirty = true;
          break;
        }
        case 'max_streams':
          this.maxStreamsDirty[f.bidirectional ? 0 : 1] = true;
          break;
        case 'stop_sending': {
          const st = this.streams.get(f.streamId);
          if (st !== undefined && !st.receiveDone) s.control.push(f);
          break;
        }
        case 'reset_stream':
        case 'handshake_done':
          s.control.push(f);
          break;
        default:
          break;
      }
    }
  }

  private ptoDuration(space: SpaceIndex): number {
    let d = this.rttEstimator.ptoBase();
    if (space === 2) d += this.handshakeConfirmed ? this.peer.maxAckDelay : 0;
    return d * 2 ** this.ptoCount;
  }

  /** RFC 9002 Appendix A.8: SetLossDetectionTimer. */
  private setLossTimer(now: number): void {
    this.lossTimer = undefined;
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed')
      return;
    for (const i of SPACES) {
      const t = this.spaces[i]!.sent.lossTime;
      if (t !== undefined && (this.lossTimer === undefined || t < this.lossTimer.time)) {
        this.lossTimer = { time: t, space: i, kind: 'loss' };
      }
    }
    if (this.lossTimer !== undefined) return;
    if (this.role === 'server' && !this.addressValidated && this.amplificationBudget() <= 0) return;
    const anyInFlight = SPACES.some(
      (i) => !this.spaces[i]!.discarded && this.spaces[i]!.sent.ackElicitingInFlight(),
    );
    if (!anyInFlight) {
      if (this.role === 'server' || this.handshakeConfirmed || this.stateValue !== 'handshake') return;
      // The client arms a PTO to unblock a server limited by anti-amplification (A.8).
      const space: SpaceIndex = this.spaces[1]!.writeKeys !== undefined && !this.spaces[1]!.discarded ? 1 : 0;
      if (this.spaces[space]!.discarded) return;
      this.lossTimer = { time: now + this.ptoDuration(space), space, kind: 'pto' };
      return;
    }
    for (const i of SPACES) {
      const s = this.spaces[i]!;
      if (s.discarded || !s.sent.ackElicitingInFlight()) continue;
      if (i === 2 && !this.handshakeComplete) continue;
      const t = s.sent.timeOfLastAckEliciting + this.ptoDuration(i);
      if (this.lossTimer === undefined || t < this.lossTimer.time)
        this.lossTimer = { time: t, space: i, kind: 'pto' };
    }
  }

  private onLossTimeout(now: number): void {
    const timer = this.lossTimer!;
    if (timer.kind === 'loss') {
      this.detectLostPackets(timer.space, now);
    } else {
      // RFC 9002 §6.2.4: send probes, carrying the data of the oldest unacknowledged packets.
      const s = this.spaces[timer.space]!;
      let moved = 0;
      for (const p of s.sent.packets.values()) {
        if (moved >= 2) break;
        if (!p.ackEliciting || p.frames.length === 0) continue;
        this.requeue(timer.space, p.frames);
        p.frames = [];
        moved++;
      }
      s.probes = 2;
      this.ptoCount++;
    }
    this.setLossTimer(now);
  }

  private discardSpace(space: SpaceIndex): void {
    const s = this.spaces[space]!;
    if (s.discarded) return;
    this.congestion.removeFromFlight(s.discard());
    this.ptoCount = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  private effectiveIdleTimeout(): number | undefined {
    const ours = this.local.maxIdleTimeout;
    const theirs = this.peer.maxIdleTimeout;
    const t = ours === 0 ? theirs : theirs === 0 ? ours : Math.min(ours, theirs);
    return t === 0 ? undefined : t;
  }

  private restartIdleTimer(now: number): void {
    const t = this.effectiveIdleTimeout();
    // §10.1: at least three times the current PTO.
    this.idleDeadline = t === undefined ? undefined : now + Math.max(t, 3 * this.ptoDuration(0));
  }

  /** When to call {@link onTimeout} next, or undefined when no timer is armed. */
  nextTimeout(): number | undefined {
    if (this.stateValue === 'closed') return undefined;
    if (this.stateValue === 'closing' || this.stateValue === 'draining') return this.closeDeadline;
    let t = this.idleDeadline;
    const consider = (v: number | undefined) => {
      if (v !== undefined && (t === undefined || v < t)) t = v;
    };
    consider(this.lossTimer?.time);
    // An ACK that anti-amplification keeps us from sending must not spin the timer.
    if (this.amplificationBudget() >= 64) {
      for (const s of this.spaces) {
        if (!s.discarded && s.acks.ackElicitingSinceAck > 0) consider(s.acks.ackDeadline);
      }
    }
    return t;
  }

  /** Runs the timers that are due at `now`; returns the events that caused. */
  onTimeout(now: number): QuicConnectionEvent[] {
    if (this.stateValue === 'closing' || this.stateValue === 'draining') {
      if (this.closeDeadline !== undefined && now >= this.closeDeadline) this.stateValue = 'closed';
      return this.takeEvents();
    }
    if (this.stateValue === 'closed') return this.takeEvents();
    if (this.idleDeadline !== undefined && now >= this.idleDeadline) {
      // §10.1: silently closed.
      this.stateValue = 'closed';
      this.events.push({
        type: 'connection_closed',
        by: 'idle',
        application: false,
        errorCode: 0n,
        reason: 'idle timeout',
      });
      return this.takeEvents();
    }
    if (this.lossTimer !== undefined && now >= this.lossTimer.time) this.onLossTimeout(now);
    return this.takeEvents();
  }

  // ---------------------------------------------------------------------------------------------
  // Closing (RFC 9000 §10.2)

  /**
   * Closes the connection immediately with CONNECTION_CLOSE (§10.2): an application close
   * (type 0x1d) by default, a transport close when `application` is false.
   */
  close(errorCode = 0n, reason = '', application = true): void {
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed')
      return;
    this.closeFrame = {
      type: 'connection_close',
      application,
      errorCode,
      frameType: 0n,
      reason: new TextEncoder().encode(reason),
    };
    this.stateValue = 'closing';
    this.closePending = true;
    this.events.push({ type: 'connection_closed', by: 'local', application, errorCode, reason });
  }

  private failWith(e: unknown): void {
    if (e instanceof QuicError) {
      this.close(BigInt(e.errorCode), e.message, false);
      if (this.closeFrame?.type === 'connection_close') this.closeFrame.frameType = BigInt(e.frameType);
    } else {
      this.close(BigInt(E.INTERNAL_ERROR), String(e), false);
    }
  }

  private enterDraining(
    now: number,
    application: boolean,
    errorCode: bigint,
    reason: Uint8Array,
    notify: boolean,
  ): void {
    this.stateValue = 'draining';
    this.closeDeadline = now + 3 * this.ptoDuration(0);
    this.lossTimer = undefined;
    if (notify) {
      this.events.push({
        type: 'connection_closed',
        by: 'peer',
        application,
        errorCode,
        reason: new TextDecoder().decode(reason),
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  private amplificationBudget(): number {
    return this.addressValidated ? Number.POSITIVE_INFINITY : 3 * this.bytesReceived - this.bytesSent;
  }

  /** The datagrams to send now (RFC 9000 §12.2: packets of several spaces coalesced). */
  pollDatagrams(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.stateValue === 'closed' || this.stateValue === 'draining') return out;
    if (this.role === 'server' && this.tls === undefined) return out;
    if (this.stateValue === 'closing') {
      if (this.closePending) {
        this.closePending = false;
        const d = this.buildCloseDatagram(now);
        if (d !== undefined) out.push(d);
        if (this.closeDeadline === undefined) this.closeDeadline = now + 3 * this.ptoDuration(0);
      }
      return out;
    }
    for (let i = 0; i < MAX_DATAGRAMS_PER_POLL; i++) {
      const d = this.buildDatagram(now);
      if (d === undefined) break;
      out.push(d);
    }
    this.setLossTimer(now);
    return out;
  }

  private buildCloseDatagram(now: number): Uint8Array | undefined {
    const close = this.closeFrame as QuicFrame & { type: 'connection_close' };
    const parts: Uint8Array[] = [];
    let size = 0;
    for (const i of SPACES) {
      const s = this.spaces[i]!;
      if (s.discarded || s.writeKeys === undefined) continue;
      if (i === 2 && !this.handshakeComplete) continue;
      // §10.2.3: an application close in Initial or Handshake becomes APPLICATION_ERROR.
      const frame: QuicFrame =
        i !== 2 && close.application
          ? {
              type: 'connection_close',
              application: false,
              errorCode: BigInt(E.APPLICATION_ERROR),
              frameType: 0n,
              reason: new Uint8Array(0),
            }
          : close;
      const pad = this.role === 'client' && i === 0 ? MIN_INITIAL_DATAGRAM : 0;
      const packet = this.encodePacket(i, [frame], now, Math.max(0, pad - size), false);
      parts.push(packet);
      size += packet.length;
    }
    if (parts.length === 0) return undefined;
    const out = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    this.bytesSent += out.length;
    return out;
  }

  private headerOverhead(space: SpaceIndex, pnLength: number): number {
    if (space === 2) return 1 + this.peerConnectionId.length + pnLength + QUIC_AEAD_TAG_LENGTH;
    // Long header: first byte, version, two CID lengths and CIDs, (token length 0), Length (2).
    return (
      7 +
      this.peerConnectionId.length +
      CID_LENGTH +
      (space === 0 ? 1 : 0) +
      2 +
      pnLength +
      QUIC_AEAD_TAG_LENGTH
    );
  }

  private buildDatagram(now: number): Uint8Array | undefined {
    let limit = Math.min(this.maxDatagramSize, this.peer.maxUdpPayloadSize);
    if (this.role === 'server' && !this.addressValidated) limit = Math.min(limit, this.amplificationBudget());
    if (limit < 64) return undefined;
    const plans: { space: SpaceIndex; frames: QuicFrame[]; ackEliciting: boolean }[] = [];
    let remaining = limit;
    for (const i of SPACES) {
      const s = this.spaces[i]!;
      if (s.discarded || s.writeKeys === undefined) continue;
      if (i === 2 && !this.handshakeComplete) continue;
      const pnLength = quicPacketNumberLength(s.nextPacketNumber, s.sent.largestAcked);
      const budget = remaining - this.headerOverhead(i, pnLength);
      if (budget < 32) continue;
      const plan = this.collectFrames(i, budget, now);
      if (plan === undefined) continue;
      let size = 0;
      for (const f of plan.frames) size += quicFrameSize(f);
      remaining -= this.headerOverhead(i, pnLength) + size;
      plans.push({ space: i, ...plan });
    }
    if (plans.length === 0) return undefined;
    // §14.1: a client pads every datagram with an Initial packet, a server those with
    // ack-eliciting Initials, to 1200 bytes.
    const pad = plans.some((p) => p.space === 0 && (this.role === 'client' || p.ackEliciting))
      ? Math.min(MIN_INITIAL_DATAGRAM, limit)
      : 0;
    const packets: Uint8Array[] = [];
    let size = 0;
    plans.forEach((plan, k) => {
      const last = k === plans.length - 1;
      const packet = this.encodePacket(
        plan.space,
        plan.frames,
        now,
        last ? Math.max(0, pad - size) : 0,
        plan.ackEliciting,
      );
      packets.push(packet);
      size += packet.length;
    });
    const out = new Uint8Array(size);
    let o = 0;
    for (const p of packets) {
      out.set(p, o);
      o += p.length;
    }
    this.bytesSent += out.length;
    // RFC 9001 §4.9.1: a client discards Initial keys when it first sends a Handshake packet.
    if (this.role === 'client' && plans.some((p) => p.space === 1)) this.discardSpace(0);
    return out;
  }

  /** Seals one packet of `space` with `frames`, padded so that it is at least `minSize` bytes. */
  private encodePacket(
    space: SpaceIndex,
    frames: QuicFrame[],
    now: number,
    minSize: number,
    ackEliciting: boolean,
  ): Uint8Array {
    const s = this.spaces[space]!;
    const pn = s.nextPacketNumber++;
    const pnLength = quicPacketNumberLength(pn, s.sent.largestAcked);
    let payload = encodeQuicFrames(frames);
    const overhead = this.headerOverhead(space, pnLength);
    let padding = Math.max(0, minSize - overhead - payload.length, 4 - pnLength - payload.length);
    if (padding > 0) {
      const padded = new Uint8Array(payload.length + padding);
      padded.set(payload, 0);
      payload = padded;
      padding = 0;
    }
    const header =
      space === 2
        ? writeQuicShortHeader({
            dcid: this.peerConnectionId,
            packetNumber: pn,
            packetNumberLength: pnLength,
          })
        : writeQuicLongHeader({
            type: space === 0 ? 'initial' : 'handshake',
            dcid: this.peerConnectionId,
            scid: this.sourceConnectionId,
            packetNumber: pn,
            packetNumberLength: pnLength,
            payloadLength: payload.length + QUIC_AEAD_TAG_LENGTH,
          });
    const packet = protectQuicPacket(s.writeKeys!, header, pn, payload);
    const retransmittable = frames.filter(
      (f) => f.type !== 'ack' && f.type !== 'padding' && f.type !== 'ping',
    );
    const inFlight = ackEliciting || payload.length > encodeQuicFramesSize(frames);
    s.sent.onPacketSent(pn, {
      timeSent: now,
      size: packet.length,
      ackEliciting,
      inFlight,
      frames: retransmittable,
    });
    if (inFlight) this.congestion.onPacketSent(packet.length);
    if (ackEliciting) {
      if (s.probes > 0) s.probes--;
      if (!this.ackElicitingSentSinceReceive) {
        this.restartIdleTimer(now);
        this.ackElicitingSentSinceReceive = true;
      }
    }
    return packet;
  }

  /** The frames of the next packet of `space`, within `budget` bytes; undefined if nothing to send. */
  private collectFrames(
    space: SpaceIndex,
    budget: number,
    now: number,
  ): { frames: QuicFrame[]; ackEliciting: boolean } | undefined {
    const s = this.spaces[space]!;
    const frames: QuicFrame[] = [];
    let room = budget;
    let ack: QuicFrame | undefined;
    if (s.acks.hasAckPending()) {
      ack = s.acks.ackFrame(now, space === 2, this.local.ackDelayExponent);
      room -= quicFrameSize(ack);
    }
    const mayElicit = this.congestion.hasRoom() || s.probes > 0;
    const add = (f: QuicFrame): boolean => {
      const n = quicFrameSize(f);
      if (n > room) return false;
      frames.push(f);
      room -= n;
      return true;
    };
    if (mayElicit) {
      // CRYPTO data, split to fit.
      while (s.cryptoPending.length > 0 && room > 16) {
        const f = s.cryptoPending[0]!;
        const headerSize = quicFrameSize({ type: 'crypto', offset: f.offset, data: new Uint8Array(0) }) + 2;
        const n = Math.min(f.data.length, room - headerSize);
        if (n <= 0) break;
        add({ type: 'crypto', offset: f.offset, data: f.data.subarray(0, n) });
        if (n === f.data.length) s.cryptoPending.shift();
        else s.cryptoPending[0] = { type: 'crypto', offset: f.offset + n, data: f.data.subarray(n) };
      }
      if (space === 2) this.collectApplicationFrames(s, add, () => room);
      if (frames.length === 0 && s.probes > 0) add({ type: 'ping' });
    }
    const ackEliciting = frames.length > 0;
    if (ack !== undefined) {
      if (ackEliciting || s.acks.isAckDue(now)) {
        frames.unshift(ack);
        s.acks.clearPending();
      }
    }
    return frames.length === 0 ? undefined : { frames, ackEliciting };
  }

  private collectApplicationFrames(
    s: QuicPacketNumberSpace,
    add: (f: QuicFrame) => boolean,
    room: () => number,
  ): void {
    while (s.control.length > 0 && add(s.control[0]!)) s.control.shift();
    if (this.maxDataDirty && add({ type: 'max_data', maximumData: this.receiveMaxData })) {
      this.maxDataDirty = false;
      this.receiveMaxDataAdvertised = Math.max(this.receiveMaxDataAdvertised, this.receiveMaxData);
    }
    for (const kind of [0, 1]) {
      if (!this.maxStreamsDirty[kind]) continue;
      if (
        add({ type: 'max_streams', bidirectional: kind === 0, maximumStreams: this.localMaxStreams[kind]! })
      ) {
        this.maxStreamsDirty[kind] = false;
      }
    }
    for (const st of this.streams.values()) {
      if (!st.maxStreamDataDirty || st.receiveDone) continue;
      if (add({ type: 'max_stream_data', streamId: st.id, maximumStreamData: st.receiveMax })) {
        st.onMaxStreamDataSent();
      }
    }
    for (const st of this.streams.values()) {
      while (st.retransmit.length > 0) {
        const f = st.retransmit[0]!;
        const headerSize = quicFrameSize({ ...f, data: new Uint8Array(0), fin: false }) + 2;
        const n = Math.min(f.data.length, room() - headerSize);
        if (n < 0 || (n === 0 && f.data.length > 0)) return;
        const whole = n === f.data.length;
        add({
          type: 'stream',
          streamId: f.streamId,
          offset: f.offset,
          data: f.data.subarray(0, n),
          fin: f.fin && whole,
        });
        if (whole) st.retransmit.shift();
        else st.retransmit[0] = { ...f, offset: f.offset + n, data: f.data.subarray(n) };
      }
    }
    for (const st of this.streams.values()) {
      if (st.resetSent || st.finSent) continue;
      if (st.sendQueued === 0 && !st.finQueued) continue;
      const headerSize =
        quicFrameSize({
          type: 'stream',
          streamId: st.id,
          offset: st.sendOffset,
          data: new Uint8Array(0),
          fin: false,
        }) + 2;
      const credit = Math.min(st.sendMax - st.sendOffset, this.peer.initialMaxData - this.sentData);
      const n = Math.max(0, Math.min(st.sendQueued, credit, room() - headerSize));
      if (n === 0 && !(st.sendQueued === 0 && st.finQueued)) continue;
      if (room() < headerSize) return;
      const data = st.takeSendBytes(n);
      const fin = st.finQueued && st.sendQueued === 0;
      add({ type: 'stream', streamId: st.id, offset: st.sendOffset, data, fin });
      st.sendOffset += n;
      this.sentData += n;
      if (fin) {
        st.finSent = true;
        this.maybeRetire(st);
      }
    }
  }
}

function encodeQuicFramesSize(frames: QuicFrame[]): number {
  let n = 0;
  for (const f of frames) n += quicFrameSize(f);
  return n;
}
