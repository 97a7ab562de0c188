/**
 * Verification of the peer's certificate chain for a TLS 1.3 handshake (RFC 8446 §4.4.2.4,
 * path building after RFC 5280 §6 in its simple form): every certificate valid at `now`, the
 * leaf matching the expected host name or IP address (RFC 6125 via node:crypto), each
 * certificate signed by the next (an intermediate must be a CA) up to a trust anchor. Time is
 * an input; nothing here reads a clock.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { Tls13Alert, Tls13Error } from './tls13-error.js';

/** What a chain is checked against. */
export interface Tls13CertificateVerifierOptions {
  /** Trusted root (or pinned) certificates. A chain whose leaf is one of them is accepted as is. */
  trustAnchors: readonly X509Certificate[];
  /** The DNS name or IP address the leaf must match; omitted: no name check. */
  hostname?: string | undefined;
  /** The time of the check, in milliseconds since the Unix epoch. */
  now: number;
  /** Most certificates in a path, leaf and anchor included. Default 10. */
  maxDepth?: number;
}

function certificateError(alert: number, message: string, cause?: unknown): Tls13Error {
  return new Tls13Error('AVX_TLS13_CERTIFICATE', alert, message, cause === undefined ? undefined : { cause });
}

function checkValidity(cert: X509Certificate, now: number): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(now >= from && now <= to)) {
    throw certificateError(
      Tls13Alert.certificate_expired,
      `certificate "${cert.subject}" is not valid at ${new Date(now).toISOString()} (valid ${cert.validFrom} to ${cert.validTo})`,
    );
  }
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer);
}

/**
 * Parses and verifies a chain of DER certificates (the sender's first) and returns the parsed
 * chain. Throws {@link Tls13Error} with certificate_expired (45), bad_certificate (42: corrupt
 * certificate, signature that does not verify, name mismatch, non-CA intermediate) or
 * unknown_ca (48: no path to a trust anchor).
 */
export function verifyCertificateChain(
  der: readonly Uint8Array[],
  options: Tls13CertificateVerifierOptions,
): X509Certificate[] {
  if (der.length === 0) {
    throw new Tls13Error(
      'AVX_TLS13_DECODE',
      Tls13Alert.decode_error,
      'empty Certificate message (RFC 8446 §4.4.2.4)',
    );
  }
  const chain = der.map((d, i) => {
    try {
      return new X509Certificate(d);
    } catch (cause) {
      throw certificateError(Tls13Alert.bad_certificate, `certificate ${i} cannot be parsed`, cause);
    }
  });
  const leaf = chain[0]!;
  const { hostname, now } = options;
  if (hostname !== undefined) {
    const ok =
      isIP(hostname) !== 0 ? leaf.checkIP(hostname) : leaf.checkHost(hostname, { subject: 'default' });
    if (ok === undefined) {
      throw certificateError(
        Tls13Alert.bad_certificate,
        `certificate "${leaf.subject}" does not match "${hostname}"`,
      );
    }
  }
  const maxDepth = options.maxDepth ?? 10;
  const used = new Set<X509Certificate>([leaf]);
  let current = leaf;
  for (let depth = 1; ; depth++) {
    checkValidity(current, now);
    if (options.trustAnchors.some((a) => a.fingerprint256 === current.fingerprint256)) return chain;
    if (depth >= maxDepth) {
      throw certificateError(Tls13Alert.unknown_ca, `no trust anchor within ${maxDepth} certificates`);
    }
    const anchor = options.trustAnchors.find((a) => issuedBy(current, a));
    if (anchor !== undefined) {
      if (!current.verify(anchor.publicKey)) {
        throw certificateError(
          Tls13Alert.bad_certificate,
          `signature of "${current.subject}" does not verify`,
        );
      }
      checkValidity(anchor, now);
      return chain;
    }
    const next = chain.find((c) => !used.has(c) && issuedBy(current, c));
    if (next === undefined) {
      throw certificateError(
        Tls13Alert.unknown_ca,
        `issuer "${current.issuer}" of "${current.subject}" is not trusted`,
      );
    }
    if (!next.ca) {
      throw certificateError(Tls13Alert.bad_certificate, `issuer "${next.subject}" is not a CA certificate`);
    }
    if (!current.verify(next.publicKey)) {
      throw certificateError(Tls13Alert.bad_certificate, `signature of "${current.subject}" does not verify`);
    }
    used.add(next);
    current = next;
  }
}
