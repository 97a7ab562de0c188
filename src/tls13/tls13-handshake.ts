/**
 * A sans-I/O TLS 1.3 handshake for QUIC (RFC 9001 §4.1): no records, no sockets, no clock.
 * The transport feeds the CRYPTO bytes of each encryption level to `receive(level, bytes)` and
 * gets back events: bytes to send at a level, traffic secrets to install per level and
 * direction, the end of the handshake (ALPN, the peer's transport parameters) and tickets.
 * Full (EC)DHE handshakes (RFC 8446 §2) with HelloRetryRequest (§4.1.4), ALPN (RFC 7301),
 * quic_transport_parameters (RFC 9001 §8.2) and server authentication by certificate.
 * Not implemented: PSK / resumption / 0-RTT, client certificates (a CertificateRequest is
 * answered with an empty Certificate), KeyUpdate (forbidden over QUIC, RFC 9001 §6).
 * Errors are thrown as {@link Tls13Error}; its `alert` is the alert to report.
 */

import { createPrivateKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { verifyCertificateChain } from './tls13-certificate-verifier.js';
import {
  Tls13Alert,
  type Tls13AlertName,
  Tls13Error,
  type Tls13ErrorCode,
  unexpectedMessage,
} from './tls13-error.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeKeyShareClient,
  decodeKeyShareHelloRetryRequest,
  decodeKeyShareServer,
  decodeNamedGroupList,
  decodeServerName,
  decodeSignatureSchemeList,
  decodeSupportedVersionsClient,
  decodeSupportedVersionsServer,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareClient,
  encodeKeyShareHelloRetryRequest,
  encodeKeyShareServer,
  encodeNamedGroupList,
  encodeServerName,
  encodeSignatureSchemeList,
  encodeSupportedVersionsClient,
  encodeSupportedVersionsServer,
  findExtension,
  TLS13_VERSION,
  type Tls13Extension,
  Tls13ExtensionType as X,
} from './tls13-extensions.js';
import {
  cipherSuiteById,
  exportKeyingMaterial,
  finishedVerifyData,
  TLS13_CIPHER_SUITES,
  type Tls13CipherSuite,
  Tls13KeySchedule,
  transcriptHash,
  verifyFinished,
} from './tls13-key-schedule.js';
import { TLS13_SUPPORTED_GROUPS, Tls13KeyShare } from './tls13-key-share.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeFinished,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeHelloRetryRequest,
  encodeServerHello,
  messageHashMessage,
  Tls13HandshakeType as T,
  type Tls13ClientHello,
  type Tls13HandshakeMessage,
  Tls13HandshakeReassembler,
  type Tls13NewSessionTicket,
} from './tls13-messages.js';
import {
  certificateVerifyContent,
  chooseSignatureScheme,
  signWithScheme,
  TLS13_SIGNATURE_SCHEMES,
  verifyWithScheme,
} from './tls13-signature.js';

/** QUIC encryption levels that carry handshake bytes (RFC 9001 §4.1.4); 0-RTT carries none. */
export type Tls13Level = 'initial' | 'handshake' | 'application';

/** What the handshake asks of its transport. */
export type Tls13Event =
  /** Send `bytes` in CRYPTO frames at `level`. */
  | { type: 'send'; level: Tls13Level; bytes: Buffer }
  /** Install the traffic secret of `level` for `direction` (RFC 9001 §4.1.4: derive packet keys from it). */
  | {
      type: 'keys';
      level: 'handshake' | 'application';
      direction: 'read' | 'write';
      secret: Buffer;
      suite: Tls13CipherSuite;
    }
  /** The handshake is complete and confirmed by this side (RFC 9001 §4.1.1). */
  | {
      type: 'complete';
      alpn: string | undefined;
      /** The peer's quic_transport_parameters, undecoded; undefined when not in use. */
      peerTransportParameters: Buffer | undefined;
      suite: Tls13CipherSuite;
      /** The server's certificate chain (client side), leaf first. */
      peerCertificates: X509Certificate[];
      /** The server_name the client sent (server side). */
      serverName: string | undefined;
    }
  /** A NewSessionTicket arrived (client side; resumption is not implemented, this is informational). */
  | { type: 'ticket'; ticket: Tls13NewSessionTicket };

/** Options shared by client and server. */
export interface Tls13CommonOptions {
  /** ALPN protocol names: offered in this order (client), or chosen by this preference (server). Default none. */
  alpnProtocols?: readonly string[];
  /**
   * The encoded quic_transport_parameters to send (RFC 9001 §8.2). When set, the peer must send
   * its own (missing_extension otherwise). Default: not sent.
   */
  transportParameters?: Uint8Array;
  /** Cipher suite code points in order of preference. Default 0x1301, 0x1302, 0x1303. */
  cipherSuites?: readonly number[];
  /** Named groups in order of preference. Default x25519, secp256r1, secp384r1. */
  groups?: readonly number[];
  /** Largest handshake message accepted, in bytes. Default 65536. */
  maxMessageSize?: number;
}

/** Client options. */
export interface Tls13ClientOptions extends Tls13CommonOptions {
  /** The server's DNS name (sent as server_name unless an IP address, and checked against the certificate). */
  serverName: string;
  /** Trusted CA (or pinned) certificates, PEM or DER or parsed. */
  trustAnchors: readonly (string | Buffer | X509Certificate)[];
  /** The time at which certificates are checked, in milliseconds since the Unix epoch. */
  now: number;
  /** Groups to send key shares for in the first ClientHello. Default: the first of `groups`. */
  keyShareGroups?: readonly number[];
}

/** Server options. */
export interface Tls13ServerOptions extends Tls13CommonOptions {
  /** The certificate chain, leaf first (PEM, DER or parsed). */
  certificateChain: readonly (string | Buffer | X509Certificate)[];
  /** The leaf's private key (PEM / DER PKCS#8 or a KeyObject). */
  privateKey: string | Buffer | KeyObject;
}

const CODE_OF_ALERT: Partial<Record<Tls13AlertName, Tls13ErrorCode>> = {
  illegal_parameter: 'AVX_TLS13_ILLEGAL_PARAMETER',
  handshake_failure: 'AVX_TLS13_HANDSHAKE_FAILURE',
  protocol_version: 'AVX_TLS13_PROTOCOL_VERSION',
  missing_extension: 'AVX_TLS13_MISSING_EXTENSION',
  unsupported_extension: 'AVX_TLS13_UNSUPPORTED_EXTENSION',
  no_application_protocol: 'AVX_TLS13_NO_APPLICATION_PROTOCOL',
  decrypt_error: 'AVX_TLS13_DECRYPT_ERROR',
  unexpected_message: 'AVX_TLS13_UNEXPECTED_MESSAGE',
  decode_error: 'AVX_TLS13_DECODE',
};

function fail(alert: Tls13AlertName, message: string): Tls13Error {
  return new Tls13Error(CODE_OF_ALERT[alert] ?? 'AVX_TLS13_INTERNAL', Tls13Alert[alert], message);
}

function toCertificate(c: string | Buffer | X509Certificate): X509Certificate {
  return c instanceof X509Certificate ? c : new X509Certificate(c);
}

/** Extensions that may not appear in EncryptedExtensions (RFC 8446 §4.2 table): illegal_parameter. */
const NOT_IN_ENCRYPTED_EXTENSIONS: readonly number[] = [
  X.key_share,
  X.supported_versions,
  X.signature_algorithms,
  X.signature_algorithms_cert,
  X.cookie,
  X.pre_shared_key,
  X.psk_key_exchange_modes,
  X.certificate_authorities,
  X.oid_filters,
  X.post_handshake_auth,
];

/** Transcript, key schedule and per-level reassembly shared by both sides. */
abstract class Tls13Endpoint {
  protected readonly transcript: Buffer[] = [];
  protected suite: Tls13CipherSuite | undefined;
  protected schedule: Tls13KeySchedule | undefined;
  protected events: Tls13Event[] = [];
  private readonly reassemblers = new Map<Tls13Level, Tls13HandshakeReassembler>();
  private failed: Tls13Error | undefined;
  private exporterSecret: Buffer | undefined;
  protected readonly cipherSuites: readonly number[];
  protected readonly groups: readonly number[];

  constructor(protected readonly common: Tls13CommonOptions) {
    this.cipherSuites = common.cipherSuites ?? TLS13_CIPHER_SUITES.map((s) => s.id);
    this.groups = common.groups ?? TLS13_SUPPORTED_GROUPS;
  }

  /** The level at which the next handshake message is expected. */
  protected abstract get expectedLevel(): Tls13Level;
  protected abstract handle(message: Tls13HandshakeMessage): void;

  /** True once this side has completed the handshake. */
  abstract get complete(): boolean;

  /**
   * Feeds CRYPTO bytes received at `level` and returns what to do. After a thrown error the
   * endpoint is dead: later calls throw the same error.
   */
  receive(level: Tls13Level, bytes: Uint8Array): Tls13Event[] {
    if (this.failed !== undefined) throw this.failed;
    try {
      if (level !== this.expectedLevel) {
        throw unexpectedMessage(
          `handshake bytes at the ${level} level while expecting ${this.expectedLevel}`,
        );
      }
      let r = this.reassemblers.get(level);
      if (r === undefined) {
        r = new Tls13HandshakeReassembler(this.common.maxMessageSize);
        this.reassemblers.set(level, r);
      }
      for (const m of r.push(bytes)) {
        if (this.expectedLevel !== level) {
          // RFC 8446 §5.1: a key change must fall on a message boundary; RFC 9001 §4.1.3.
          throw unexpectedMessage(`message after a key change at the ${level} level`);
        }
        this.handle(m);
      }
      return this.takeEvents();
    } catch (e) {
      this.failed =
        e instanceof Tls13Error
          ? e
          : new Tls13Error('AVX_TLS13_INTERNAL', Tls13Alert.internal_error, String(e), { cause: e });
      throw this.failed;
    }
  }

  protected takeEvents(): Tls13Event[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  protected hash(): Buffer {
    return transcriptHash(this.suite!.hash, ...this.transcript);
  }

  protected keys(level: 'handshake' | 'application', direction: 'read' | 'write', secret: Buffer): void {
    this.events.push({ type: 'keys', level, direction, secret, suite: this.suite! });
  }

  protected rememberExporter(serverFinishedHash: Buffer): void {
    this.exporterSecret = this.schedule!.exporterMasterSecret(serverFinishedHash);
  }

  /** TLS-Exporter (RFC 8446 §7.5), available once the server Finished is processed. */
  exportKeyingMaterial(label: string, context: Uint8Array, length: number): Buffer {
    if (this.exporterSecret === undefined)
      throw new Error('exporter not available before the handshake completes');
    return exportKeyingMaterial(this.suite!.hash, this.exporterSecret, label, context, length);
  }

  /** Replaces ClientHello1 by message_hash before a HelloRetryRequest (RFC 8446 §4.4.1). */
  protected replaceClientHelloWithMessageHash(): void {
    const ch1 = this.transcript.splice(0, this.transcript.length);
    this.transcript.push(messageHashMessage(transcriptHash(this.suite!.hash, ...ch1)));
  }
}

type ClientState =
  | 'start'
  | 'wait_sh'
  | 'wait_ee'
  | 'wait_cert_cr'
  | 'wait_cert'
  | 'wait_cv'
  | 'wait_finished'
  | 'connected';

/** The client side. Call {@link start} once, then feed the server's bytes to `receive`. */
export class Tls13Client extends Tls13Endpoint {
  private state: ClientState = 'start';
  private readonly anchors: X509Certificate[];
  private shares: Tls13KeyShare[] = [];
  private random: Buffer = randomBytes(32);
  private cookie: Buffer | undefined;
  private hrrSuite: number | undefined;
  private helloRetried = false;
  private alpn: string | undefined;
  private peerTransportParameters: Buffer | undefined;
  private peerCertificates: X509Certificate[] = [];
  private certificateRequestContext: Buffer | undefined;
  private handshakeSecrets: { client: Buffer; server: Buffer } | undefined;

  constructor(private readonly options: Tls13ClientOptions) {
    super(options);
    this.anchors = options.trustAnchors.map(toCertificate);
  }

  get complete(): boolean {
    return this.state === 'connected';
  }

  protected get expectedLevel(): Tls13Level {
    if (this.state === 'start' || this.state === 'wait_sh') return 'initial';
    return this.state === 'connected' ? 'application' : 'handshake';
  }

  /** Creates the key shares and returns the ClientHello to send at the initial level. */
  start(): Tls13Event[] {
    if (this.state !== 'start') throw new Error('start() was already called');
    const groups = this.options.keyShareGroups ?? this.groups.slice(0, 1);
    this.shares = groups.map((g) => Tls13KeyShare.generate(g));
    this.sendClientHello();
    this.state = 'wait_sh';
    return this.takeEvents();
  }

  private sendClientHello(): void {
    const o = this.options;
    const extensions: Tls13Extension[] = [];
    if (isIP(o.serverName) === 0) {
      extensions.push({ type: X.server_name, data: encodeServerName(o.serverName) });
    }
    extensions.push(
      { type: X.supported_groups, data: encodeNamedGroupList(this.groups) },
      { type: X.signature_algorithms, data: encodeSignatureSchemeList(TLS13_SIGNATURE_SCHEMES) },
      { type: X.supported_versions, data: encodeSupportedVersionsClient([TLS13_VERSION]) },
      {
        type: X.key_share,
        data: encodeKeyShareClient(this.shares.map((s) => ({ group: s.group, keyExchange: s.publicKey }))),
      },
    );
    if (this.cookie !== undefined) extensions.push({ type: X.cookie, data: encodeCookie(this.cookie) });
    if (o.alpnProtocols !== undefined && o.alpnProtocols.length > 0) {
      extensions.push({ type: X.application_layer_protocol_negotiation, data: encodeAlpn(o.alpnProtocols) });
    }
    if (o.transportParameters !== undefined) {
      extensions.push({ type: X.quic_transport_parameters, data: Buffer.from(o.transportParameters) });
    }
    const ch = encodeClientHello({
      random: this.random,
      legacySessionId: Buffer.alloc(0),
      cipherSuites: [...this.cipherSuites],
      extensions,
    });
    this.transcript.push(ch);
    this.events.push({ type: 'send', level: 'initial', bytes: ch });
  }

  protected handle(m: Tls13HandshakeMessage): void {
    switch (this.state) {
      case 'wait_sh':
        if (m.type !== T.server_hello) throw unexpectedMessage(`expected ServerHello, got type ${m.type}`);
        {
          this.onServerHello(m);
          return;
        }
      case 'wait_ee':
        if (m.type !== T.encrypted_extensions)
          throw unexpectedMessage(`expected EncryptedExtensions, got ${m.type}`);
        {
          this.onEncryptedExtensions(m);
          return;
        }
      case 'wait_cert_cr':
        if (m.type === T.certificate_request) {
          const cr = decodeCertificateRequest(m.body);
          if (cr.context.length !== 0) {
            throw fail(
              'illegal_parameter',
              'CertificateRequest context must be empty in the handshake (§4.3.2)',
            );
          }
          this.certificateRequestContext = cr.context;
          this.transcript.push(m.raw);
          this.state = 'wait_cert';
          return;
        }
        if (m.type !== T.certificate) throw unexpectedMessage(`expected Certificate, got type ${m.type}`);
        {
          this.onCertificate(m);
          return;
        }
      case 'wait_cert':
        if (m.type !== T.certificate) throw unexpectedMessage(`expected Certificate, got type ${m.type}`);
        {
          this.onCertificate(m);
          return;
        }
      case 'wait_cv':
        if (m.type !== T.certificate_verify)
          throw unexpectedMessage(`expected CertificateVerify, got ${m.type}`);
        {
          this.onCertificateVerify(m);
          return;
        }
      case 'wait_finished':
        if (m.type !== T.finished) throw unexpectedMessage(`expected Finished, got type ${m.type}`);
        {
          this.onFinished(m);
          return;
        }
      case 'connected':
        if (m.type === T.new_session_ticket) {
          this.events.push({ type: 'ticket', ticket: decodeNewSessionTicket(m.body) });
          return;
        }
        throw unexpectedMessage(
          `post-handshake message type ${m.type} is not allowed over QUIC (RFC 9001 §6)`,
        );
      default:
        throw unexpectedMessage(`message type ${m.type} before start()`);
    }
  }

  private onServerHello(m: Tls13HandshakeMessage): void {
    const sh = decodeServerHello(m.body);
    const sv = findExtension(sh.extensions, X.supported_versions);
    if (sv === undefined)
      throw fail('protocol_version', 'the server does not select TLS 1.3 (RFC 8446 §4.2.1)');
    if (decodeSupportedVersionsServer(sv) !== TLS13_VERSION) {
      throw fail('illegal_parameter', 'supported_versions selects a version other than TLS 1.3 (§4.2.1)');
    }
    if (sh.legacyVersion !== 0x0303)
      throw fail('illegal_parameter', 'ServerHello legacy_version is not 0x0303');
    if (sh.legacySessionIdEcho.length !== 0) {
      throw fail('illegal_parameter', 'legacy_session_id_echo differs from the sent session id (§4.1.3)');
    }
    const suite = cipherSuiteById(sh.cipherSuite);
    if (suite === undefined || !this.cipherSuites.includes(sh.cipherSuite)) {
      throw fail(
        'illegal_parameter',
        `the server selected cipher suite 0x${sh.cipherSuite.toString(16)} not offered`,
      );
    }
    if (this.hrrSuite !== undefined && this.hrrSuite !== sh.cipherSuite) {
      throw fail('illegal_parameter', 'ServerHello cipher suite differs from the HelloRetryRequest (§4.1.4)');
    }
    this.suite = suite;
    if (sh.isHelloRetryRequest) {
      this.onHelloRetryRequest(m, sh.extensions);
      return;
    }

    for (const e of sh.extensions) {
      if (e.type !== X.key_share && e.type !== X.supported_versions) {
        throw fail('unsupported_extension', `ServerHello carries extension ${e.type} (RFC 8446 §4.1.3)`);
      }
    }
    const ks = findExtension(sh.extensions, X.key_share);
    if (ks === undefined) throw fail('missing_extension', 'ServerHello has no key_share (§4.2.8)');
    const serverShare = decodeKeyShareServer(ks);
    const mine = this.shares.find((s) => s.group === serverShare.group);
    if (mine === undefined)
      throw fail('illegal_parameter', `the server's key share group ${serverShare.group} was not offered`);
    const shared = mine.computeSecret(serverShare.keyExchange);

    this.transcript.push(m.raw);
    this.schedule = new Tls13KeySchedule(suite.hash);
    this.schedule.deriveHandshakeSecret(shared);
    this.handshakeSecrets = this.schedule.handshakeTrafficSecrets(this.hash());
    this.keys('handshake', 'read', this.handshakeSecrets.server);
    this.keys('handshake', 'write', this.handshakeSecrets.client);
    this.state = 'wait_ee';
  }

  private onHelloRetryRequest(m: Tls13HandshakeMessage, extensions: Tls13Extension[]): void {
    if (this.helloRetried) throw unexpectedMessage('a second HelloRetryRequest (RFC 8446 §4.1.4)');
    this.helloRetried = true;
    this.hrrSuite = this.suite!.id;
    for (const e of extensions) {
      if (e.type !== X.key_share && e.type !== X.supported_versions && e.type !== X.cookie) {
        throw fail('unsupported_extension', `HelloRetryRequest carries extension ${e.type} (§4.1.4)`);
      }
    }
    const ks = findExtension(extensions, X.key_share);
    const cookie = findExtension(extensions, X.cookie);
    if (ks === undefined && cookie === undefined) {
      throw fail('illegal_parameter', 'HelloRetryRequest would not change the ClientHello (§4.1.4)');
    }
    if (ks !== undefined) {
      const group = decodeKeyShareHelloRetryRequest(ks);
      if (!this.groups.includes(group) || this.shares.some((s) => s.group === group)) {
        throw fail(
          'illegal_parameter',
          `HelloRetryRequest selects group ${group}, not offered or already shared`,
        );
      }
      this.shares = [Tls13KeyShare.generate(group)];
    }
    if (cookie !== undefined) this.cookie = decodeCookie(cookie);
    this.replaceClientHelloWithMessageHash();
    this.transcript.push(m.raw);
    this.sendClientHello();
  }

  private onEncryptedExtensions(m: Tls13HandshakeMessage): void {
    const ee = decodeEncryptedExtensions(m.body);
    for (const e of ee) {
      if (NOT_IN_ENCRYPTED_EXTENSIONS.includes(e.type)) {
        throw fail('illegal_parameter', `EncryptedExtensions carries extension ${e.type} (RFC 8446 §4.2)`);
      }
    }
    const offered = this.options.alpnProtocols ?? [];
    const alpn = findExtension(ee, X.application_layer_protocol_negotiation);
    if (alpn !== undefined) {
      if (offered.length === 0)
        throw fail('unsupported_extension', 'ALPN selected but not offered (RFC 7301 §3.2)');
      const names = decodeAlpn(alpn);
      if (names.length !== 1 || !offered.includes(names[0]!)) {
        throw fail(
          'illegal_parameter',
          'the server must select exactly one offered ALPN protocol (RFC 7301 §3.1)',
        );
      }
      this.alpn = names[0];
    } else if (offered.length > 0) {
      throw fail('no_application_protocol', 'the server selected no ALPN protocol (RFC 9001 §8.1)');
    }
    const tp = findExtension(ee, X.quic_transport_parameters);
    if (this.options.transportParameters !== undefined && tp === undefined) {
      throw fail('missing_extension', 'the server sent no quic_transport_parameters (RFC 9001 §8.2)');
    }
    if (this.options.transportParameters === undefined && tp !== undefined) {
      throw fail('unsupported_extension', 'quic_transport_parameters received but not sent');
    }
    this.peerTransportParameters = tp;
    this.transcript.push(m.raw);
    this.state = 'wait_cert_cr';
  }

  private onCertificate(m: Tls13HandshakeMessage): void {
    const cert = decodeCertificate(m.body);
    if (cert.context.length !== 0) {
      throw fail('illegal_parameter', "the server's certificate_request_context must be empty (§4.4.2)");
    }
    this.peerCertificates = verifyCertificateChain(
      cert.entries.map((e) => e.data),
      { trustAnchors: this.anchors, hostname: this.options.serverName, now: this.options.now },
    );
    this.transcript.push(m.raw);
    this.state = 'wait_cv';
  }

  private onCertificateVerify(m: Tls13HandshakeMessage): void {
    const cv = decodeCertificateVerify(m.body);
    if (!TLS13_SIGNATURE_SCHEMES.includes(cv.algorithm)) {
      throw fail(
        'illegal_parameter',
        `CertificateVerify uses scheme 0x${cv.algorithm.toString(16)} not offered (§4.4.3)`,
      );
    }
    const content = certificateVerifyContent('server', this.hash());
    if (!verifyWithScheme(cv.algorithm, this.peerCertificates[0]!.publicKey, content, cv.signature)) {
      throw fail(
        'decrypt_error',
        "the server's CertificateVerify signature does not verify (RFC 8446 §4.4.3)",
      );
    }
    this.transcript.push(m.raw);
    this.state = 'wait_finished';
  }

  private onFinished(m: Tls13HandshakeMessage): void {
    const suite = this.suite!;
    const verifyData = decodeFinished(m.body, suite.hashLength);
    if (!verifyFinished(suite.hash, this.handshakeSecrets!.server, this.hash(), verifyData)) {
      throw fail('decrypt_error', "the server's Finished does not verify (RFC 8446 §4.4.4)");
    }
    this.transcript.push(m.raw);
    const serverFinishedHash = this.hash();
    this.schedule!.deriveMasterSecret();
    const app = this.schedule!.applicationTrafficSecrets(serverFinishedHash);
    this.rememberExporter(serverFinishedHash);
    this.keys('application', 'read', app.server);

    const out: Buffer[] = [];
    if (this.certificateRequestContext !== undefined) {
      const empty = encodeCertificate({ context: this.certificateRequestContext, entries: [] });
      this.transcript.push(empty);
      out.push(empty);
    }
    const fin = encodeFinished(finishedVerifyData(suite.hash, this.handshakeSecrets!.client, this.hash()));
    this.transcript.push(fin);
    out.push(fin);
    this.events.push({ type: 'send', level: 'handshake', bytes: Buffer.concat(out) });
    this.keys('application', 'write', app.client);
    this.state = 'connected';
    this.events.push({
      type: 'complete',
      alpn: this.alpn,
      peerTransportParameters: this.peerTransportParameters,
      suite,
      peerCertificates: this.peerCertificates,
      serverName: undefined,
    });
  }
}

type ServerState = 'wait_ch' | 'wait_finished' | 'connected';

/** The server side: feed the client's bytes to `receive`; the first ClientHello starts it. */
export class Tls13Server extends Tls13Endpoint {
  private state: ServerState = 'wait_ch';
  private readonly chain: X509Certificate[];
  private readonly key: KeyObject;
  private hrrGroup: number | undefined;
  private handshakeSecrets: { client: Buffer; server: Buffer } | undefined;
  private applicationClientSecret: Buffer | undefined;
  private result: Extract<Tls13Event, { type: 'complete' }> | undefined;

  constructor(private readonly options: Tls13ServerOptions) {
    super(options);
    if (options.certificateChain.length === 0) throw new RangeError('certificateChain is empty');
    this.chain = options.certificateChain.map(toCertificate);
    this.key =
      typeof options.privateKey === 'string' || Buffer.isBuffer(options.privateKey)
        ? createPrivateKey(options.privateKey)
        : options.privateKey;
  }

  get complete(): boolean {
    return this.state === 'connected';
  }

  protected get expectedLevel(): Tls13Level {
    if (this.state === 'wait_ch') return 'initial';
    return this.state === 'wait_finished' ? 'handshake' : 'application';
  }

  protected handle(m: Tls13HandshakeMessage): void {
    if (this.state === 'wait_ch') {
      if (m.type !== T.client_hello) throw unexpectedMessage(`expected ClientHello, got type ${m.type}`);
      this.onClientHello(m);
      return;
    }
    if (this.state === 'wait_finished') {
      if (m.type !== T.finished) throw unexpectedMessage(`expected Finished, got type ${m.type}`);
      this.onFinished(m);
      return;
    }
    throw unexpectedMessage(`post-handshake message type ${m.type} is not allowed over QUIC (RFC 9001 §6)`);
  }

  private onClientHello(m: Tls13HandshakeMessage): void {
    const ch = decodeClientHello(m.body);
    const sv = findExtension(ch.extensions, X.supported_versions);
    if (sv === undefined || !decodeSupportedVersionsClient(sv).includes(TLS13_VERSION)) {
      throw fail('protocol_version', 'the client does not offer TLS 1.3 (RFC 8446 §4.2.1)');
    }
    if (ch.legacyCompressionMethods.length !== 1 || ch.legacyCompressionMethods[0] !== 0) {
      throw fail('illegal_parameter', 'legacy_compression_methods must be exactly [0] (§4.1.2)');
    }
    const suiteId = this.cipherSuites.find((s) => ch.cipherSuites.includes(s));
    const suite = suiteId === undefined ? undefined : cipherSuiteById(suiteId);
    if (suite === undefined) throw fail('handshake_failure', 'no cipher suite in common');
    if (this.hrrGroup !== undefined && this.suite!.id !== suite.id) {
      throw fail('illegal_parameter', 'the second ClientHello changes the cipher suite (§4.1.4)');
    }
    this.suite = suite;

    const sa = findExtension(ch.extensions, X.signature_algorithms);
    if (sa === undefined) throw fail('missing_extension', 'ClientHello has no signature_algorithms (§4.2.3)');
    const scheme = chooseSignatureScheme(this.key, decodeSignatureSchemeList(sa));
    if (scheme === undefined)
      throw fail('handshake_failure', 'no signature scheme in common for the certificate key');

    const sg = findExtension(ch.extensions, X.supported_groups);
    const ks = findExtension(ch.extensions, X.key_share);
    if (sg === undefined || ks === undefined) {
      throw fail('missing_extension', 'ClientHello needs supported_groups and key_share (§9.2)');
    }
    const clientGroups = decodeNamedGroupList(sg);
    const shares = decodeKeyShareClient(ks);
    for (const s of shares) {
      if (!clientGroups.includes(s.group)) {
        throw fail('illegal_parameter', `key share for group ${s.group} not in supported_groups (§4.2.8)`);
      }
    }
    const alpn = this.selectAlpn(ch);
    const tp = findExtension(ch.extensions, X.quic_transport_parameters);
    if (this.options.transportParameters !== undefined && tp === undefined) {
      throw fail('missing_extension', 'the client sent no quic_transport_parameters (RFC 9001 §8.2)');
    }
    const sni = findExtension(ch.extensions, X.server_name);
    const serverName = sni === undefined ? undefined : decodeServerName(sni);

    let share = shares.find((s) => this.groups.includes(s.group) && s.group === this.preferredShared(shares));
    if (this.hrrGroup !== undefined) {
      if (shares.length !== 1 || shares[0]!.group !== this.hrrGroup) {
        throw fail(
          'illegal_parameter',
          'the second ClientHello must share only the requested group (§4.1.4)',
        );
      }
      share = shares[0];
    }
    if (share === undefined) {
      const group = this.groups.find((g) => clientGroups.includes(g));
      if (group === undefined) throw fail('handshake_failure', 'no key exchange group in common');
      this.sendHelloRetryRequest(m, ch, group);
      return;
    }

    this.transcript.push(m.raw);
    const mine = Tls13KeyShare.generate(share.group);
    const shared = mine.computeSecret(share.keyExchange);
    const sh = encodeServerHello({
      random: randomBytes(32),
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: suite.id,
      extensions: [
        { type: X.supported_versions, data: encodeSupportedVersionsServer(TLS13_VERSION) },
        {
          type: X.key_share,
          data: encodeKeyShareServer({ group: share.group, keyExchange: mine.publicKey }),
        },
      ],
    });
    this.transcript.push(sh);
    this.events.push({ type: 'send', level: 'initial', bytes: sh });
    this.schedule = new Tls13KeySchedule(suite.hash);
    this.schedule.deriveHandshakeSecret(shared);
    this.handshakeSecrets = this.schedule.handshakeTrafficSecrets(this.hash());
    this.keys('handshake', 'read', this.handshakeSecrets.client);
    this.keys('handshake', 'write', this.handshakeSecrets.server);

    const eeExtensions: Tls13Extension[] = [];
    if (alpn !== undefined)
      eeExtensions.push({ type: X.application_layer_protocol_negotiation, data: encodeAlpn([alpn]) });
    if (this.options.transportParameters !== undefined) {
      eeExtensions.push({
        type: X.quic_transport_parameters,
        data: Buffer.from(this.options.transportParameters),
      });
    }
    const ee = encodeEncryptedExtensions(eeExtensions);
    this.transcript.push(ee);
    const cert = encodeCertificate({
      context: Buffer.alloc(0),
      entries: this.chain.map((c) => ({ data: c.raw, extensions: [] })),
    });
    this.transcript.push(cert);
    const signature = signWithScheme(scheme, this.key, certificateVerifyContent('server', this.hash()));
    const cv = encodeCertificateVerify({ algorithm: scheme, signature });
    this.transcript.push(cv);
    const fin = encodeFinished(finishedVerifyData(suite.hash, this.handshakeSecrets.server, this.hash()));
    this.transcript.push(fin);
    this.events.push({ type: 'send', level: 'handshake', bytes: Buffer.concat([ee, cert, cv, fin]) });

    const serverFinishedHash = this.hash();
    this.schedule.deriveMasterSecret();
    const app = this.schedule.applicationTrafficSecrets(serverFinishedHash);
    this.rememberExporter(serverFinishedHash);
    this.applicationClientSecret = app.client;
    this.keys('application', 'write', app.server);
    this.result = {
      type: 'complete',
      alpn,
      peerTransportParameters: tp,
      suite,
      peerCertificates: [],
      serverName,
    };
    this.state = 'wait_finished';
  }

  /** The first group of this server's preference for which the client sent a share. */
  private preferredShared(shares: readonly { group: number }[]): number | undefined {
    return this.groups.find((g) => shares.some((s) => s.group === g));
  }

  private selectAlpn(ch: Tls13ClientHello): string | undefined {
    const mine = this.options.alpnProtocols ?? [];
    const data = findExtension(ch.extensions, X.application_layer_protocol_negotiation);
    if (mine.length === 0) return undefined;
    if (data === undefined)
      throw fail('no_application_protocol', 'the client offers no ALPN (RFC 9001 §8.1)');
    const offered = decodeAlpn(data);
    const chosen = mine.find((p) => offered.includes(p));
    if (chosen === undefined)
      throw fail('no_application_protocol', 'no ALPN protocol in common (RFC 7301 §3.2)');
    return chosen;
  }

  private sendHelloRetryRequest(m: Tls13HandshakeMessage, ch: Tls13ClientHello, group: number): void {
    if (this.hrrGroup !== undefined)
      throw fail('illegal_parameter', 'a second HelloRetryRequest would be needed');
    this.hrrGroup = group;
    this.transcript.push(m.raw);
    this.replaceClientHelloWithMessageHash();
    const hrr = encodeHelloRetryRequest({
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: this.suite!.id,
      extensions: [
        { type: X.supported_versions, data: encodeSupportedVersionsServer(TLS13_VERSION) },
        { type: X.key_share, data: encodeKeyShareHelloRetryRequest(group) },
      ],
    });
    this.transcript.push(hrr);
    this.events.push({ type: 'send', level: 'initial', bytes: hrr });
  }

  private onFinished(m: Tls13HandshakeMessage): void {
    const suite = this.suite!;
    const verifyData = decodeFinished(m.body, suite.hashLength);
    if (!verifyFinished(suite.hash, this.handshakeSecrets!.client, this.hash(), verifyData)) {
      throw fail('decrypt_error', "the client's Finished does not verify (RFC 8446 §4.4.4)");
    }
    this.transcript.push(m.raw);
    this.keys('application', 'read', this.applicationClientSecret!);
    this.state = 'connected';
    this.events.push(this.result!);
  }
}
