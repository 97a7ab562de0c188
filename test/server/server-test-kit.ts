/**
 * Helpers for server tests: raw-socket exchanges (for byte-exact and hostile input) and
 * running curl as a real peer.
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** Sends `data` on a fresh connection and collects everything until the server closes or `ms` pass. */
export function rawExchange(
  port: number,
  data: string | Buffer | (string | Buffer)[],
  ms = 2000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, ms);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('connect', () => {
      for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
    });
  });
}

/** Opens a connection and resolves once connected. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket has closed (or after `ms`, with false). */
export function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      resolve(true);
      return;
    }
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Runs curl with `args`; resolves with stdout (rejects when curl fails). */
export function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'latin1' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The responses in a raw HTTP/1.1 byte string, split on status lines. */
export function statusCodes(raw: string): number[] {
  const codes: number[] = [];
  const re = /HTTP\/1\.[01] (\d{3})/g;
  let m: RegExpExecArray | null = re.exec(raw);
  while (m !== null) {
    codes.push(Number(m[1]));
    m = re.exec(raw);
  }
  return codes;
}
