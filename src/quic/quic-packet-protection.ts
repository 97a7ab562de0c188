/**
 * QUIC packet protection (RFC 9001 §5.3-§5.5, §5.8): AEAD payload protection with the nonce made
 * of the IV XOR the packet number (§5.3), header protection with a mask from AES-ECB (§5.4.3) or
 * ChaCha20 (§5.4.4) over a sample of the ciphertext (§5.4.2), and the Retry Integrity Tag (§5.8).
 * Sans-I/O: `protectQuicPacket` takes an unprotected header and a plaintext payload and returns
 * the protected packet; `unprotectQuicPacket` reverses it. All crypto is node:crypto.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { QuicError, QuicTransportErrorCode } from './quic-error.js';
import type { QuicPacketKeys } from './quic-initial-secrets.js';
import {
  decodeQuicPacketNumber,
  QUIC_RETRY_TAG_LENGTH,
  writeQuicRetryWithoutTag,
} from './quic-packet-header.js';

/** AEAD tag length of every QUIC AEAD (RFC 9001 §5.3). */
export const QUIC_AEAD_TAG_LENGTH = 16;
/** Header protection sample length (RFC 9001 §5.4.2). */
export const QUIC_HP_SAMPLE_LENGTH = 16;
/** The sample starts 4 bytes after the start of the packet number field (RFC 9001 §5.4.2). */
const SAMPLE_OFFSET = 4;

/** RFC 9001 §5.8: the version 1 Retry Integrity Tag key and nonce. */
const RETRY_KEY = Buffer.from('be0c690b9f66575a1d766b54e368c84e', 'hex');
const RETRY_NONCE = Buffer.from('461599d35d632bf2239825bb', 'hex');

/**
 * The 5-byte header protection mask of a sample (RFC 9001 §5.4.1). AES: the first bytes of
 * AES-ECB(hp, sample) (§5.4.3). ChaCha20: the first 4 sample bytes are the block counter
 * (little-endian) and the other 12 the nonce, and the mask is ChaCha20 of five zero bytes
 * (§5.4.4); node's `chacha20` takes exactly that 16-byte counter||nonce as its IV.
 */
export function quicHeaderProtectionMask(keys: QuicPacketKeys, sample: Uint8Array): Uint8Array {
  if (sample.length !== QUIC_HP_SAMPLE_LENGTH)
    throw new RangeError('header protection sample must be 16 bytes');
  if (keys.algorithm === 'chacha20-poly1305') {
    const cipher = createCipheriv('chacha20', keys.hp, sample);
    return new Uint8Array(cipher.update(Buffer.alloc(5))).subarray(0, 5);
  }
  const cipher = createCipheriv(keys.hp.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', keys.hp, null);
  cipher.setAutoPadding(false);
  return new Uint8Array(cipher.update(sample)).subarray(0, 5);
}

/** RFC 9001 §5.3: the IV XOR the packet number, left-padded to the IV's 12 bytes. */
export function quicNonce(iv: Uint8Array, packetNumber: number): Buffer {
  const nonce = Buffer.from(iv);
  let v = packetNumber;
  for (let i = nonce.length - 1; i >= nonce.length - 8 && v > 0; i--) {
    nonce[i] = nonce[i]! ^ (v % 256);
    v = Math.floor(v / 256);
  }
  return nonce;
}

function seal(keys: QuicPacketKeys, nonce: Buffer, aad: Uint8Array, plaintext: Uint8Array): Buffer[] {
  const cipher =
    keys.algorithm === 'chacha20-poly1305'
      ? createCipheriv('chacha20-poly1305', keys.key, nonce, { authTagLength: QUIC_AEAD_TAG_LENGTH })
      : createCipheriv(keys.algorithm, keys.key, nonce, { authTagLength: QUIC_AEAD_TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return [cipher.update(plaintext), cipher.final(), cipher.getAuthTag()];
}

function open(keys: QuicPacketKeys, nonce: Buffer, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const tagAt = ciphertext.length - QUIC_AEAD_TAG_LENGTH;
  try {
    const decipher =
      keys.algorithm === 'chacha20-poly1305'
        ? createDecipheriv('chacha20-poly1305', keys.key, nonce, { authTagLength: QUIC_AEAD_TAG_LENGTH })
        : createDecipheriv(keys.algorithm, keys.key, nonce, { authTagLength: QUIC_AEAD_TAG_LENGTH });
    decipher.setAuthTag(ciphertext.subarray(tagAt));
    decipher.setAAD(aad, { plaintextLength: tagAt });
    const head = decipher.update(ciphertext.subarray(0, tagAt));
    const tail = decipher.final();
    return tail.length === 0
      ? new Uint8Array(head.buffer, head.byteOffset, head.length)
      : Buffer.concat([head, tail]);
  } catch {
    // RFC 9001 §5.5: a packet that fails authentication is discarded.
    throw new QuicError(
      'AVX_QUIC_DECRYPT_FAILED',
      QuicTransportErrorCode.PROTOCOL_VIOLATION,
      'packet failed AEAD authentication; drop it (RFC 9001 §5.5)',
    );
  }
}

/** Applies (or removes: XOR is its own inverse) the header mask to a header in place (§5.4.1). */
function maskHeader(packet: Uint8Array, pnOffset: number, pnLength: number, mask: Uint8Array): void {
  packet[0] = packet[0]! ^ (mask[0]! & ((packet[0]! & 0x80) !== 0 ? 0x0f : 0x1f));
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i] = packet[pnOffset + i]! ^ mask[1 + i]!;
}

/**
 * Protects one packet (RFC 9001 §5.3, §5.4): `header` is the unprotected header ending with the
 * truncated packet number (its length in the low bits of the first byte), `packetNumber` the
 * full number, `payload` the plaintext frames. Returns header + ciphertext + tag with header
 * protection applied. Throws RangeError when the payload is too short for a header protection
 * sample (§5.4.2: the packet number and payload must be at least 4 bytes, plus the tag).
 */
export function protectQuicPacket(
  keys: QuicPacketKeys,
  header: Uint8Array,
  packetNumber: number,
  payload: Uint8Array,
): Uint8Array {
  const pnLength = (header[0]! & 0x03) + 1;
  const pnOffset = header.length - pnLength;
  if (pnOffset < 1) throw new RangeError('header too short for its packet number');
  if (pnLength + payload.length < SAMPLE_OFFSET) {
    throw new RangeError(
      'packet number and payload must take at least 4 bytes; pad the payload (RFC 9001 §5.4.2)',
    );
  }
  const parts = seal(keys, quicNonce(keys.iv, packetNumber), header, payload);
  const out = new Uint8Array(header.length + payload.length + QUIC_AEAD_TAG_LENGTH);
  out.set(header, 0);
  let p = header.length;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  const sampleAt = pnOffset + SAMPLE_OFFSET;
  const mask = quicHeaderProtectionMask(keys, out.subarray(sampleAt, sampleAt + QUIC_HP_SAMPLE_LENGTH));
  maskHeader(out, pnOffset, pnLength, mask);
  return out;
}

/** A packet with protection removed. */
export interface QuicUnprotectedPacket {
  /** The unprotected header bytes, through the packet number (a copy). */
  header: Uint8Array;
  /** The full packet number (RFC 9000 §17.1). */
  packetNumber: number;
  /** The plaintext payload: the frames. */
  payload: Uint8Array;
  /** Short headers: the Key Phase bit (RFC 9001 §6). False for long headers. */
  keyPhase: boolean;
}

/**
 * Removes header and payload protection from one packet (RFC 9001 §5.4.1, §5.3). `packet` is
 * exactly one packet (for coalesced packets, slice at `packetEnd` of the parsed header),
 * `pnOffset` the offset of its packet number field, `largestReceived` the largest packet number
 * processed in its space (-1 if none) for §17.1 recovery. Does not modify `packet`.
 *
 * Throws {@link QuicError}: `AVX_QUIC_MALFORMED_PACKET` when there is no room for the sample,
 * `AVX_QUIC_DECRYPT_FAILED` when authentication fails (both: drop the packet), and
 * PROTOCOL_VIOLATION when an authentic packet has non-zero reserved bits (RFC 9000 §17.2, §17.3.1).
 */
export function unprotectQuicPacket(
  keys: QuicPacketKeys,
  packet: Uint8Array,
  pnOffset: number,
  largestReceived: number,
): QuicUnprotectedPacket {
  const sampleAt = pnOffset + SAMPLE_OFFSET;
  if (pnOffset < 1 || sampleAt + QUIC_HP_SAMPLE_LENGTH > packet.length) {
    throw new QuicError(
      'AVX_QUIC_MALFORMED_PACKET',
      QuicTransportErrorCode.PROTOCOL_VIOLATION,
      'packet too short for a header protection sample (RFC 9001 §5.4.2)',
    );
  }
  const mask = quicHeaderProtectionMask(keys, packet.subarray(sampleAt, sampleAt + QUIC_HP_SAMPLE_LENGTH));
  const long = (packet[0]! & 0x80) !== 0;
  const first = packet[0]! ^ (mask[0]! & (long ? 0x0f : 0x1f));
  const pnLength = ((first & 0x03) + 1) as 1 | 2 | 3 | 4;
  const header = packet.slice(0, pnOffset + pnLength);
  maskHeader(header, pnOffset, pnLength, mask);
  let truncated = 0;
  for (let i = 0; i < pnLength; i++) truncated = truncated * 256 + header[pnOffset + i]!;
  const packetNumber = decodeQuicPacketNumber(largestReceived, truncated, pnLength);
  const ciphertext = packet.subarray(header.length);
  if (ciphertext.length < QUIC_AEAD_TAG_LENGTH) {
    throw new QuicError(
      'AVX_QUIC_MALFORMED_PACKET',
      QuicTransportErrorCode.PROTOCOL_VIOLATION,
      'packet shorter than its AEAD tag (RFC 9001 §5.3)',
    );
  }
  const payload = open(keys, quicNonce(keys.iv, packetNumber), header, ciphertext);
  // RFC 9000 §17.2, §17.3.1: reserved bits non-zero after removing both protections is a
  // PROTOCOL_VIOLATION.
  if ((first & (long ? 0x0c : 0x18)) !== 0) {
    throw new QuicError(
      'AVX_QUIC_PROTOCOL_VIOLATION',
      QuicTransportErrorCode.PROTOCOL_VIOLATION,
      'reserved header bits are not zero (RFC 9000 §17.2, §17.3.1)',
    );
  }
  return { header, packetNumber, payload, keyPhase: !long && (first & 0x04) !== 0 };
}

/**
 * The Retry Integrity Tag (RFC 9001 §5.8): AEAD_AES_128_GCM with the fixed v1 key and nonce,
 * an empty plaintext, and the Retry Pseudo-Packet as associated data: ODCID Length, the
 * client's original Destination Connection ID, then the Retry packet without its tag.
 */
export function quicRetryIntegrityTag(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (originalDcid.length > 255) throw new RangeError('connection id too long');
  const pseudo = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  pseudo[0] = originalDcid.length;
  pseudo.set(originalDcid, 1);
  pseudo.set(retryWithoutTag, 1 + originalDcid.length);
  const cipher = createCipheriv('aes-128-gcm', RETRY_KEY, RETRY_NONCE, {
    authTagLength: QUIC_AEAD_TAG_LENGTH,
  });
  cipher.setAAD(pseudo);
  cipher.final();
  return new Uint8Array(cipher.getAuthTag());
}

/** Whether the tag at the end of `retryPacket` is right for `originalDcid` (RFC 9001 §5.8). */
export function verifyQuicRetryIntegrity(originalDcid: Uint8Array, retryPacket: Uint8Array): boolean {
  if (retryPacket.length < QUIC_RETRY_TAG_LENGTH) return false;
  const at = retryPacket.length - QUIC_RETRY_TAG_LENGTH;
  const expected = quicRetryIntegrityTag(originalDcid, retryPacket.subarray(0, at));
  return timingSafeEqual(expected, retryPacket.subarray(at));
}

/** A whole Retry packet with its integrity tag (RFC 9000 §17.2.5, RFC 9001 §5.8). */
export function encodeQuicRetry(fields: {
  originalDcid: Uint8Array;
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array;
  version?: number;
  /** The four Unused bits of the first byte; default 0. */
  unused?: number;
}): Uint8Array {
  const body = writeQuicRetryWithoutTag(fields);
  const tag = quicRetryIntegrityTag(fields.originalDcid, body);
  const out = new Uint8Array(body.length + tag.length);
  out.set(body, 0);
  out.set(tag, body.length);
  return out;
}
