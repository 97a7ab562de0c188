/**
 * Malformed input, table-driven, in the spirit of the Autobahn TestSuite's sections: framing
 * and reserved bits (RFC 6455 §5.2), opcodes (§5.2), control frames (§5.5), fragmentation
 * (§5.4), UTF-8 (§8.1, RFC 3629), close handling (§5.5.1, §7.4), limits (§7.4.1 code 1009),
 * masking (§5.1) and permessage-deflate (RFC 7692 §6). Each case feeds bytes to the sans-I/O
 * core (server side unless noted) and checks the exact events, and the exact close code sent
 * (1002 protocol error, 1007 invalid data, 1009 too big, or the echoed code). Every case runs
 * twice: frame by frame, and one byte at a time. UTF-8 cases also check "fail fast": the
 * connection fails at the first frame whose bytes can no longer be the start of valid UTF-8.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { PerMessageDeflate } from '../../src/ws/per-message-deflate.js';
import { closePayload, frame, makeCore } from './ws-test-frames.js';

interface Case {
  section: string;
  name: string;
  input: Buffer[];
  /** Every event the core reports, in order (see CoreRecorder). */
  events: string[];
  /** Code of the Close we must send; 1005 for an empty Close; null when we must send none. */
  close: number | null;
  /** Pongs we must send. Default 0. */
  pongs?: number;
  role?: 'server' | 'client';
  maxMessageSize?: number;
  maxFrameSize?: number;
  deflate?: boolean;
  /** Index of the input piece at which the failure must already have happened. */
  failAt?: number;
}

const cases: Case[] = [];
const add = (c: Case) => cases.push(c);
const text = (payload: string | Buffer, more: Partial<Parameters<typeof frame>[0]> = {}) =>
  frame({ opcode: 0x1, payload, ...more });
const binary = (payload: string | Buffer, more: Partial<Parameters<typeof frame>[0]> = {}) =>
  frame({ opcode: 0x2, payload, ...more });
const cont = (payload: string | Buffer, more: Partial<Parameters<typeof frame>[0]> = {}) =>
  frame({ opcode: 0x0, payload, ...more });
const ping = (payload: string | Buffer = '', more: Partial<Parameters<typeof frame>[0]> = {}) =>
  frame({ opcode: 0x9, payload, ...more });
const pong = (payload: string | Buffer = '', more: Partial<Parameters<typeof frame>[0]> = {}) =>
  frame({ opcode: 0xa, payload, ...more });
const close = (payload: Buffer = Buffer.alloc(0), more: Partial<Parameters<typeof frame>[0]> = {}) =>
  frame({ opcode: 0x8, payload, ...more });

// ---------------------------------------------------------------------------------------------
// Reserved bits (Autobahn 3.x): any RSV bit without an extension fails with 1002.
const kinds: [string, (rsv: number) => Buffer][] = [
  ['text', (rsv) => text('Hello', { rsv })],
  ['binary', (rsv) => binary(Buffer.from([1, 2, 3]), { rsv })],
  ['ping', (rsv) => ping('Hello', { rsv })],
  ['pong', (rsv) => pong('Hello', { rsv })],
  ['close', (rsv) => close(closePayload(1000), { rsv })],
];
for (let rsv = 1; rsv <= 7; rsv++) {
  for (const [kind, make] of kinds) {
    add({
      section: 'reserved bits',
      name: `${kind} with RSV=${rsv}`,
      input: [make(rsv)],
      events: ['error 1002'],
      close: 1002,
    });
  }
  add({
    section: 'reserved bits',
    name: `valid text, then text with RSV=${rsv}, then a ping that must not be answered`,
    input: [text('Hello'), text('Hello', { rsv }), ping('late')],
    events: ['message text 5', 'error 1002'],
    close: 1002,
  });
  add({
    section: 'reserved bits',
    name: `continuation with RSV=${rsv}`,
    input: [text('Hel', { fin: false }), cont('lo', { rsv })],
    events: ['error 1002'],
    close: 1002,
  });
}

// ---------------------------------------------------------------------------------------------
// Opcodes (Autobahn 4.x): reserved data opcodes 3-7 and control opcodes 0xB-0xF.
for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
  add({
    section: 'opcodes',
    name: `reserved opcode ${opcode}`,
    input: [frame({ opcode })],
    events: ['error 1002'],
    close: 1002,
  });
  add({
    section: 'opcodes',
    name: `valid text, reserved opcode ${opcode} with payload, then a ping`,
    input: [text('Hello'), frame({ opcode, payload: 'reserved' }), ping()],
    events: ['message text 5', 'error 1002'],
    close: 1002,
  });
}

// ---------------------------------------------------------------------------------------------
// Control frames (Autobahn 2.x, RFC 6455 §5.5).
add({
  section: 'control frames',
  name: 'empty ping is answered',
  input: [ping()],
  events: ['ping 0'],
  close: null,
  pongs: 1,
});
add({
  section: 'control frames',
  name: 'ping with 125 bytes is answered',
  input: [ping(Buffer.alloc(125, 0xfe))],
  events: ['ping 125'],
  close: null,
  pongs: 1,
});
add({
  section: 'control frames',
  name: 'ten pings, ten pongs',
  input: Array.from({ length: 10 }, (_, i) => ping(`p${i}`)),
  events: Array.from({ length: 10 }, () => 'ping 2'),
  close: null,
  pongs: 10,
});
add({
  section: 'control frames',
  name: 'unsolicited pong is accepted silently',
  input: [pong('unsolicited')],
  events: ['pong 11'],
  close: null,
});
for (const [name, f] of [
  ['ping', 0x9],
  ['pong', 0xa],
  ['close', 0x8],
] as const) {
  add({
    section: 'control frames',
    name: `${name} with a 126-byte payload`,
    input: [frame({ opcode: f, payload: Buffer.alloc(126) })],
    events: ['error 1002'],
    close: 1002,
  });
  add({
    section: 'control frames',
    name: `${name} with 125 bytes in a 16-bit length`,
    input: [frame({ opcode: f, payload: Buffer.alloc(125), lengthBits: 16 })],
    events: ['error 1002'],
    close: 1002,
  });
  add({
    section: 'control frames',
    name: `${name} with a 64-bit length`,
    input: [frame({ opcode: f, payload: Buffer.alloc(2), lengthBits: 64 })],
    events: ['error 1002'],
    close: 1002,
  });
  add({
    section: 'control frames',
    name: `fragmented ${name} (FIN=0)`,
    input: [frame({ opcode: f, payload: closePayload(1000), fin: false })],
    events: ['error 1002'],
    close: 1002,
  });
}
add({
  section: 'control frames',
  name: 'ping with 126 bytes after a valid message',
  input: [text('ok'), ping(Buffer.alloc(126))],
  events: ['message text 2', 'error 1002'],
  close: 1002,
});

// ---------------------------------------------------------------------------------------------
// Fragmentation (Autobahn 5.x, RFC 6455 §5.4).
add({
  section: 'fragmentation',
  name: 'continuation without a message (FIN=1)',
  input: [cont('x')],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'continuation without a message (FIN=0)',
  input: [cont('x', { fin: false })],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'continuation after a complete message',
  input: [text('done'), cont('more')],
  events: ['message text 4', 'error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'continuation after a complete fragmented message',
  input: [text('a', { fin: false }), cont('b'), cont('c')],
  events: ['message text 2', 'error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'new text while a text is open',
  input: [text('a', { fin: false }), text('b')],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'new binary while a text is open',
  input: [text('a', { fin: false }), binary('b')],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'new text while a binary is open',
  input: [binary('a', { fin: false }), text('b', { fin: false })],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'fragmented ping between fragments',
  input: [text('a', { fin: false }), ping('x', { fin: false }), cont('b')],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'continuation with FIN=0 and nothing else, then a new message',
  input: [text('a', { fin: false }), cont('b', { fin: false }), binary('c')],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'fragmentation',
  name: 'fragmented text with ping and pong between fragments',
  input: [
    text('fragment1', { fin: false }),
    ping('p'),
    cont('fragment2', { fin: false }),
    pong('q'),
    cont('fragment3'),
  ],
  events: ['ping 1', 'pong 1', 'message text 27'],
  close: null,
  pongs: 1,
});
add({
  section: 'fragmentation',
  name: 'many 1-byte fragments',
  input: [
    text('H', { fin: false }),
    ...'ello world'.split('').map((ch, i, all) => cont(ch, { fin: i === all.length - 1 })),
  ],
  events: ['message text 11'],
  close: null,
});
add({
  section: 'fragmentation',
  name: 'empty fragments',
  input: [text('', { fin: false }), cont('', { fin: false }), cont('')],
  events: ['message text 0'],
  close: null,
});
add({
  section: 'fragmentation',
  name: 'close between fragments is honoured; the open message is dropped',
  input: [text('a', { fin: false }), close(closePayload(1000)), cont('b')],
  events: ['close 1000'],
  close: 1000,
});

// ---------------------------------------------------------------------------------------------
// UTF-8 (Autobahn 6.x; Markus Kuhn's decoder test cases).
const invalidUtf8: [string, string][] = [
  ['lone continuation 80', '80'],
  ['lone continuation bf', 'bf'],
  ['two continuations', '80bf'],
  ['three continuations', '80bf80'],
  ['four continuations', '80bf80bf'],
  ['lonely start c0', 'c020'],
  ['lonely start c2', 'c220'],
  ['lonely start e0', 'e020'],
  ['lonely start f0', 'f020'],
  ['lonely start f8', 'f820'],
  ['lonely start fc', 'fc20'],
  ['missing last byte of 2', 'df'],
  ['missing last byte of 3', 'efbf'],
  ['missing last byte of 4', 'f48fbf'],
  ['missing two bytes of 4', 'f48f'],
  ['missing last byte of 3 (e080)', 'e080'],
  ['impossible fe', 'fe'],
  ['impossible ff', 'ff'],
  ['impossible fefeffff', 'fefeffff'],
  ['overlong / in 2', 'c0af'],
  ['overlong / in 3', 'e080af'],
  ['overlong / in 4', 'f08080af'],
  ['overlong / in 5', 'f8808080af'],
  ['overlong / in 6', 'fc80808080af'],
  ['max overlong 2', 'c1bf'],
  ['max overlong 3', 'e09fbf'],
  ['max overlong 4', 'f08fbfbf'],
  ['overlong NUL 2', 'c080'],
  ['overlong NUL 3', 'e08080'],
  ['overlong NUL 4', 'f0808080'],
  ['surrogate U+D800', 'eda080'],
  ['surrogate U+DB7F', 'edadbf'],
  ['surrogate U+DB80', 'edae80'],
  ['surrogate U+DBFF', 'edafbf'],
  ['surrogate U+DC00', 'edb080'],
  ['surrogate U+DF80', 'edbe80'],
  ['surrogate U+DFFF', 'edbfbf'],
  ['paired surrogates D800 DC00', 'eda080edb080'],
  ['paired surrogates DBFF DFFF', 'edafbfedbfbf'],
  ['above U+10FFFF (f4 90)', 'f4908080'],
  ['f5 lead', 'f5808080'],
  ['f7 lead', 'f7bfbfbf'],
  ['κόσμε then a surrogate, then text', 'cebae1bdb9cf83cebcceb5eda080656469746564'],
  ['valid text, then a bad continuation', '48656c6c6fc328'],
  ['3-byte lead then ASCII', 'e28228'],
];
/** Length of the longest prefix of `bytes` that can still begin valid UTF-8 (by brute force with isUtf8). */
function validPrefixLength(bytes: Buffer): number {
  const tails = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];
  const completable = (p: Buffer): boolean => {
    if (isUtf8(p)) return true;
    for (const a of tails) {
      if (isUtf8(Buffer.concat([p, Buffer.from([a])]))) return true;
      for (const b of tails) {
        if (isUtf8(Buffer.concat([p, Buffer.from([a, b])]))) return true;
        for (const c of tails) if (isUtf8(Buffer.concat([p, Buffer.from([a, b, c])]))) return true;
      }
    }
    return false;
  };
  let k = 0;
  while (k < bytes.length && completable(bytes.subarray(0, k + 1))) k++;
  return k;
}
for (const [name, h] of invalidUtf8) {
  const bytes = Buffer.from(h, 'hex');
  add({
    section: 'utf-8',
    name: `${name}, one frame`,
    input: [text(bytes)],
    events: ['error 1007'],
    close: 1007,
  });
  // One frame per byte: the failure comes at the first byte that cannot start valid UTF-8,
  // or at the last frame when every prefix could (a truncated sequence).
  const failAt = Math.min(validPrefixLength(bytes), bytes.length - 1);
  add({
    section: 'utf-8',
    name: `${name}, one frame per byte (fails at frame ${failAt})`,
    input: [...bytes].map((b, i) =>
      i === 0
        ? text(Buffer.from([b]), { fin: bytes.length === 1 })
        : cont(Buffer.from([b]), { fin: i === bytes.length - 1 }),
    ),
    events: ['error 1007'],
    close: 1007,
    failAt,
  });
}
for (const [name, h] of [
  ['U+FFFE (a noncharacter is valid)', 'efbfbe'],
  ['U+FFFF', 'efbfbf'],
  ['U+10FFFF', 'f48fbfbf'],
  ['U+10000', 'f0908080'],
  ['κόσμε', 'cebae1bdb9cf83cebcceb5'],
] as const) {
  const bytes = Buffer.from(h, 'hex');
  add({
    section: 'utf-8',
    name: `valid ${name}, one frame`,
    input: [text(bytes)],
    events: [`message text ${bytes.length}`],
    close: null,
  });
  add({
    section: 'utf-8',
    name: `valid ${name}, one frame per byte`,
    input: [...bytes].map((b, i) =>
      i === 0
        ? text(Buffer.from([b]), { fin: false })
        : cont(Buffer.from([b]), { fin: i === bytes.length - 1 }),
    ),
    events: [`message text ${bytes.length}`],
    close: null,
  });
}
add({
  section: 'utf-8',
  name: 'invalid UTF-8 in a binary message is fine',
  input: [binary(Buffer.from('eda080ff', 'hex'))],
  events: ['message binary 4'],
  close: null,
});

// ---------------------------------------------------------------------------------------------
// Close handling (Autobahn 7.x, RFC 6455 §5.5.1, §7.4).
add({
  section: 'close',
  name: 'close with a 1-byte payload',
  input: [close(Buffer.from([0x03]))],
  events: ['error 1002'],
  close: 1002,
});
for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  add({
    section: 'close',
    name: `close with invalid code ${code}`,
    input: [close(closePayload(code))],
    events: ['error 1002'],
    close: 1002,
  });
}
for (const code of [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
]) {
  add({
    section: 'close',
    name: `close with valid code ${code} is echoed`,
    input: [close(closePayload(code))],
    events: [`close ${code}`],
    close: code,
  });
}
add({
  section: 'close',
  name: 'close with an invalid UTF-8 reason',
  input: [close(closePayload(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')))],
  events: ['error 1007'],
  close: 1007,
});
add({
  section: 'close',
  name: 'close with a truncated UTF-8 reason',
  input: [close(closePayload(1000, Buffer.from('e282', 'hex')))],
  events: ['error 1007'],
  close: 1007,
});
add({
  section: 'close',
  name: 'close with a 123-byte reason',
  input: [close(closePayload(1000, 'r'.repeat(123)))],
  events: ['close 1000'],
  close: 1000,
});
add({
  section: 'close',
  name: 'close with a 124-byte reason (126-byte payload)',
  input: [close(closePayload(1000, 'r'.repeat(124)))],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'close',
  name: 'empty close is answered with an empty close',
  input: [close()],
  events: ['close 1005'],
  close: 1005,
});
add({
  section: 'close',
  name: 'data, ping and close after a close are ignored',
  input: [close(closePayload(1000)), text('late'), ping('late'), close(closePayload(1001))],
  events: ['close 1000'],
  close: 1000,
});
add({
  section: 'close',
  name: 'a message before the close is delivered',
  input: [text('Hello'), close(closePayload(1000, 'κόσμε'))],
  events: ['message text 5', 'close 1000'],
  close: 1000,
});
add({
  section: 'close',
  name: 'garbage after a close is ignored',
  input: [close(closePayload(1000)), Buffer.from('not a frame at all')],
  events: ['close 1000'],
  close: 1000,
});

// ---------------------------------------------------------------------------------------------
// Limits (RFC 6455 §5.2, §7.4.1 1009).
add({
  section: 'limits',
  name: 'message at maxMessageSize',
  maxMessageSize: 64,
  input: [binary(Buffer.alloc(64))],
  events: ['message binary 64'],
  close: null,
});
add({
  section: 'limits',
  name: 'message one byte over maxMessageSize',
  maxMessageSize: 64,
  input: [binary(Buffer.alloc(65))],
  events: ['error 1009'],
  close: 1009,
});
add({
  section: 'limits',
  name: 'fragments adding up over maxMessageSize',
  maxMessageSize: 64,
  input: [text('a'.repeat(40), { fin: false }), cont('b'.repeat(25))],
  events: ['error 1009'],
  close: 1009,
});
add({
  section: 'limits',
  name: 'frame over maxFrameSize in a message within maxMessageSize',
  maxMessageSize: 1000,
  maxFrameSize: 100,
  input: [binary(Buffer.alloc(101))],
  events: ['error 1009'],
  close: 1009,
});
add({
  section: 'limits',
  name: '64-bit length with the most significant bit set',
  input: [frame({ opcode: 0x2, lengthBits: 64, lengthHigh: 0x80000000 })],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'limits',
  name: '64-bit length of 2^53 (far over the limit)',
  input: [frame({ opcode: 0x2, lengthBits: 64, lengthHigh: 0x200000 })],
  events: ['error 1009'],
  close: 1009,
});
add({
  section: 'limits',
  name: 'a 16 MiB length header fails before any payload',
  maxMessageSize: 1 << 20,
  input: [Buffer.from([0x82, 0xff, 0, 0, 0, 0, 1, 0, 0, 0])],
  events: ['error 1009'],
  close: 1009,
  failAt: 0,
});

// ---------------------------------------------------------------------------------------------
// Masking (RFC 6455 §5.1).
for (const [name, f] of [
  ['text', 0x1],
  ['ping', 0x9],
  ['close', 0x8],
] as const) {
  add({
    section: 'masking',
    name: `unmasked ${name} to a server`,
    input: [frame({ opcode: f, payload: closePayload(1000), mask: false })],
    events: ['error 1002'],
    close: 1002,
  });
  add({
    section: 'masking',
    name: `masked ${name} to a client`,
    role: 'client',
    input: [frame({ opcode: f, payload: closePayload(1000), mask: true })],
    events: ['error 1002'],
    close: 1002,
  });
}

// ---------------------------------------------------------------------------------------------
// permessage-deflate (Autobahn 12.x/13.x, RFC 7692 §6).
const deflated = (data: string | Buffer) =>
  zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
add({
  section: 'deflate',
  name: 'compressed text',
  deflate: true,
  input: [text(deflated('Hello, Hello, Hello'), { rsv: 4 })],
  events: ['message text 19'],
  close: null,
});
add({
  section: 'deflate',
  name: 'compressed text in two fragments',
  deflate: true,
  input: (() => {
    const d = deflated('fragmented and compressed');
    return [text(d.subarray(0, 5), { rsv: 4, fin: false }), cont(d.subarray(5))];
  })(),
  events: ['message text 25'],
  close: null,
});
add({
  section: 'deflate',
  name: 'RSV1 on a continuation',
  deflate: true,
  input: [text(deflated('a'), { rsv: 4, fin: false }), cont('b', { rsv: 4 })],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'deflate',
  name: 'RSV1 on a ping',
  deflate: true,
  input: [ping('x', { rsv: 4 })],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'deflate',
  name: 'RSV2 with deflate negotiated',
  deflate: true,
  input: [text('x', { rsv: 2 })],
  events: ['error 1002'],
  close: 1002,
});
add({
  section: 'deflate',
  name: 'data that is not DEFLATE',
  deflate: true,
  input: [text(Buffer.from('ffffffffffff', 'hex'), { rsv: 4 })],
  events: ['error 1007'],
  close: 1007,
});
add({
  section: 'deflate',
  name: 'compressed text that is not UTF-8',
  deflate: true,
  input: [text(deflated(Buffer.from('cebaeda080', 'hex')), { rsv: 4 })],
  events: ['error 1007'],
  close: 1007,
});
add({
  section: 'deflate',
  name: 'a small message inflating over maxMessageSize',
  deflate: true,
  maxMessageSize: 10000,
  input: [binary(deflated(Buffer.alloc(20000)), { rsv: 4 })],
  events: ['error 1009'],
  close: 1009,
});
add({
  section: 'deflate',
  name: 'uncompressed message with deflate negotiated',
  deflate: true,
  input: [text('plain')],
  events: ['message text 5'],
  close: null,
});

// ---------------------------------------------------------------------------------------------

async function run(c: Case, bytewise: boolean): Promise<void> {
  const maxMessageSize = c.maxMessageSize ?? 1 << 20;
  const { core, rec } = makeCore({
    role: c.role ?? 'server',
    maxMessageSize,
    maxFrameSize: c.maxFrameSize,
    deflate: c.deflate
      ? new PerMessageDeflate(
          (c.role ?? 'server') === 'server',
          {
            serverNoContextTakeover: false,
            clientNoContextTakeover: false,
            serverMaxWindowBits: 15,
            clientMaxWindowBits: 15,
          },
          {},
          maxMessageSize,
        )
      : undefined,
  });
  const pieces = bytewise
    ? [...Buffer.concat(c.input)].map((b) => Buffer.from([b]))
    : c.input.map((b) => Buffer.from(b));
  let failedAt = -1;
  for (let i = 0; i < pieces.length; i++) {
    core.receive(pieces[i]);
    if (failedAt === -1 && rec.errors.length > 0) failedAt = i;
  }
  if (c.deflate) {
    for (let i = 0; i < 500 && rec.events.length < c.events.length; i++)
      await new Promise((r) => setTimeout(r, 2));
  }
  const where = `${c.section}: ${c.name}${bytewise ? ' (byte by byte)' : ''}`;
  assert.deepEqual(rec.events, c.events, where);
  const role = c.role ?? 'server';
  assert.equal(rec.sentCloseCode(role) ?? null, c.close, `${where}: close code sent`);
  assert.equal(rec.sent(role).filter((f) => f.opcode === 0xa).length, c.pongs ?? 0, `${where}: pongs`);
  if (c.failAt !== undefined && !bytewise) assert.equal(failedAt, c.failAt, `${where}: fails fast`);
  core.destroy();
}

const malformed = cases.filter((c) => c.close !== null && !c.events.some((e) => e.startsWith('close ')));

test(`at least 150 malformed-input cases (${malformed.length} of ${cases.length} cases)`, () => {
  assert.ok(malformed.length >= 150, `${malformed.length} malformed cases`);
  const sections = new Set(malformed.map((c) => c.section));
  for (const s of [
    'reserved bits',
    'opcodes',
    'control frames',
    'fragmentation',
    'utf-8',
    'close',
    'limits',
    'masking',
    'deflate',
  ]) {
    assert.ok(sections.has(s), `section ${s}`);
  }
});

for (const section of [...new Set(cases.map((c) => c.section))]) {
  test(`malformed input: ${section}`, async () => {
    for (const c of cases.filter((x) => x.section === section)) {
      await run(c, false);
      await run(c, true);
    }
  });
}
