/**
 * A throwaway self-signed certificate for TLS tests (P-256, CN=localhost, SAN localhost,
 * 127.0.0.1 and ::1), made with openssl in a temporary folder. Nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  cert: Buffer;
  key: Buffer;
}

let cached: TestCertificate | undefined;

/** Creates (once per process) a self-signed certificate and key. */
export function testCertificate(): TestCertificate {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'avx-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      ],
      { stdio: 'ignore' },
    );
    cached = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
