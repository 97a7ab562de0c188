/**
 * A throwaway certificate authority and a server certificate it signed (CN=localhost, SAN
 * localhost and 127.0.0.1), for tests that verify TLS properly with a custom CA. Made with
 * openssl in a temporary folder once per process; nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  /** The CA certificate (PEM), to trust. */
  ca: Buffer;
  /** The server certificate (PEM) signed by the CA. */
  cert: Buffer;
  /** The server's private key (PEM). */
  key: Buffer;
}

let cached: TestCa | undefined;

export function testCa(): TestCa {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'avx-ca-'));
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=avx test CA',
    ]);
    openssl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
    writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
    openssl([
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f('server.pem'),
      '-days',
      '2',
      '-extfile',
      f('ext.cnf'),
    ]);
    cached = {
      ca: readFileSync(f('ca.pem')),
      cert: readFileSync(f('server.pem')),
      key: readFileSync(f('server.key')),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
