import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { awsCredentialsFromEnv } from '../../../src/client/aws/aws-credentials.js';
import { presignAwsUrl } from '../../../src/client/aws/aws-presigned-url.js';
import { AwsSigV4Error } from '../../../src/client/aws/aws-sigv4-error.js';
import { awsSigV4 } from '../../../src/client/aws/aws-sigv4-policy.js';
import { SigV4Signer, sha256Hex } from '../../../src/client/aws/sigv4-signer.js';
import { Client } from '../../../src/client/client.js';
import { requirePeer } from '../../peers.js';
import { httpServer } from '../client-test-servers.js';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** What a node:http server received. */
interface Received {
  method: string;
  target: string;
  rawHeaders: string[];
  body: Buffer;
}

/** A node:http server (a peer, not our server) recording each request; answers 200. */
async function recordingServer() {
  const received: Received[] = [];
  const server = await httpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method!,
        target: req.url!,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      });
      res.end('ok');
    });
  });
  return { server, received };
}

function field(r: Received, name: string): string | undefined {
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    if (r.rawHeaders[i]!.toLowerCase() === name) return r.rawHeaders[i + 1];
  }
  return undefined;
}

/**
 * Checks a received request's SigV4 Authorization the way a service does: rebuilds the
 * canonical request from the wire (target, the fields SignedHeaders names, the body) and signs
 * it again with the secret. Returns the expected and the received Authorization.
 */
function verify(r: Received, secretAccessKey: string): { expected: string; received: string } {
  const received = field(r, 'authorization') ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      received,
    );
  assert.ok(m, `malformed Authorization: ${received}`);
  const [, accessKeyId, , region, service, signedHeaders] = m;
  const names = new Set(signedHeaders!.split(';'));
  const fields: [string, string][] = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    if (
      names.has(name) &&
      name !== 'x-amz-date' &&
      name !== 'x-amz-security-token' &&
      name !== 'x-amz-content-sha256'
    ) {
      fields.push([name, r.rawHeaders[i + 1]!]);
    }
  }
  const date = field(r, 'x-amz-date')!;
  const time = Date.UTC(
    +date.slice(0, 4),
    +date.slice(4, 6) - 1,
    +date.slice(6, 8),
    +date.slice(9, 11),
    +date.slice(11, 13),
    +date.slice(13, 15),
  );
  const q = r.target.indexOf('?');
  const contentHash = field(r, 'x-amz-content-sha256');
  const token = names.has('x-amz-security-token') ? field(r, 'x-amz-security-token') : undefined;
  const signer = new SigV4Signer({ region: region!, service: service! });
  const signed = signer.sign(
    {
      method: r.method,
      path: q === -1 ? r.target : r.target.slice(0, q),
      query: q === -1 ? '' : r.target.slice(q + 1),
      headers: fields,
      payloadHash: contentHash ?? sha256Hex(r.body),
    },
    { accessKeyId: accessKeyId!, secretAccessKey, sessionToken: token },
    time,
    { payloadHashHeader: names.has('x-amz-content-sha256') },
  );
  return { expected: signed.headers.find(([n]) => n === 'Authorization')![1], received };
}

test('curl --aws-sigv4 (an independent signer) and our SigV4Signer agree on the requests curl sends', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { server, received } = await recordingServer();
  try {
    // curl 7.88 (Debian 12) signs the query in the order given and the path as it is (no
    // second encoding, as for S3): its requests here keep to what it gets right. Sorting and
    // double encoding are checked against the AWS suite (sigv4-signer.test.ts).
    const runs: string[][] = [
      ['execute-api', '/'],
      ['execute-api', '/v1/items?a=0&a=1&b=v%2Fw&empty=', '-H', 'X-Custom:  spaced   value  '],
      [
        'execute-api',
        '/items',
        '-X',
        'PUT',
        '--data-binary',
        '{"name":"São Paulo"}',
        '-H',
        'Content-Type: application/json',
      ],
      ['s3', '/bucket/b%20c/d.txt?a=%2F&b=2', '-X', 'PUT', '--data-binary', 'hello'],
    ];
    for (const [service, path, ...extra] of runs) {
      const provider = `aws:amz:${service === 's3' ? 'us-east-1' : 'sa-east-1'}:${service}`;
      await new Promise<void>((resolve, reject) =>
        execFile(
          'curl',
          [
            '-sS',
            '--aws-sigv4',
            provider,
            '--user',
            `${KEY.accessKeyId}:${KEY.secretAccessKey}`,
            ...extra,
            `${server.origin}${path}`,
          ],
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    }
    assert.equal(received.length, runs.length);
    for (const r of received) {
      const { expected, received: got } = verify(r, KEY.secretAccessKey);
      assert.equal(expected, got, `${r.method} ${r.target}`);
    }
  } finally {
    await server.close();
  }
});

test('awsSigV4() signs what goes on the wire: path, query, host, fields, body hash; a service verifies it', async () => {
  const { server, received } = await recordingServer();
  const client = new Client().use(
    awsSigV4({
      region: 'sa-east-1',
      service: 'execute-api',
      credentials: { ...KEY, sessionToken: 'TOKEN/+=' },
    }),
  );
  try {
    await (
      await client.get(`${server.origin}/v1/itens/São Paulo?z=1&a=%2F&a=b c`, {
        headers: { 'x-tenant': 'br', 'user-agent': 'test' },
      })
    ).text();
    await (await client.post(`${server.origin}/v1/orders`, { json: { city: 'Bogotá' } })).text();
    await (await client.post(`${server.origin}/form`, { body: new URLSearchParams({ q: 'lima' }) })).text();
    assert.equal(received.length, 3);
    for (const r of received) {
      const { expected, received: got } = verify(r, KEY.secretAccessKey);
      assert.equal(got, expected, `${r.method} ${r.target}`);
      assert.equal(field(r, 'x-amz-security-token'), 'TOKEN/+=');
      assert.match(got, /SignedHeaders=[^,]*host;[^,]*x-amz-date;x-amz-security-token/);
      assert.doesNotMatch(got, /user-agent/, 'user-agent is not signed');
      assert.equal(
        field(r, 'x-amz-content-sha256'),
        undefined,
        'only S3 gets x-amz-content-sha256 by default',
      );
    }
    assert.match(field(received[0]!, 'authorization')!, /x-tenant/);
    assert.match(
      field(received[2]!, 'authorization')!,
      /content-type/,
      "the body's implied Content-Type is signed",
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('awsSigV4() for s3: x-amz-content-sha256, UNSIGNED-PAYLOAD for streams, and the path sent encoded as signed', async () => {
  const { server, received } = await recordingServer();
  const client = new Client().use(awsSigV4({ region: 'us-east-1', service: 's3', credentials: KEY }));
  try {
    await (await client.put(`${server.origin}/bucket/it's (1)!.txt`, { body: 'hello' })).text();
    await (
      await client.put(`${server.origin}/bucket/stream`, {
        body: Readable.from([Buffer.from('a'), Buffer.from('b')]),
      })
    ).text();
    assert.equal(received[0]!.target, '/bucket/it%27s%20%281%29%21.txt');
    assert.equal(field(received[0]!, 'x-amz-content-sha256'), sha256Hex('hello'));
    assert.equal(field(received[1]!, 'x-amz-content-sha256'), 'UNSIGNED-PAYLOAD');
    assert.equal(received[1]!.body.toString(), 'ab');
    for (const r of received) {
      const { expected, received: got } = verify(r, KEY.secretAccessKey);
      assert.equal(got, expected, r.target);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

test('awsSigV4() refuses, with typed errors: a stream body it cannot hash, missing or failing credentials', async () => {
  const { server, received } = await recordingServer();
  const stream = () => Readable.from([Buffer.from('x')]);
  try {
    const strict = new Client().use(awsSigV4({ region: 'us-east-1', service: 'dynamodb', credentials: KEY }));
    await assert.rejects(
      strict.post(`${server.origin}/`, { body: stream() }),
      (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_UNHASHABLE_BODY',
    );
    // With its hash given, the same stream is signed.
    const res = await strict.post(`${server.origin}/`, {
      body: stream(),
      headers: { 'x-amz-content-sha256': sha256Hex('x') },
    });
    await res.text();
    assert.equal(verify(received[0]!, KEY.secretAccessKey).expected, field(received[0]!, 'authorization'));
    await strict.close();
    const failing = new Client().use(
      awsSigV4({
        region: 'us-east-1',
        service: 'sts',
        credentials: () => Promise.reject(new Error('metadata service down')),
      }),
    );
    await assert.rejects(
      failing.get(`${server.origin}/`),
      (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_BAD_CREDENTIALS',
    );
    await failing.close();
    const empty = new Client().use(
      awsSigV4({
        region: 'us-east-1',
        service: 'sts',
        credentials: { accessKeyId: '', secretAccessKey: 'x' },
      }),
    );
    await assert.rejects(
      empty.get(`${server.origin}/`),
      (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_BAD_CREDENTIALS',
    );
    await empty.close();
    assert.equal(received.length, 1, 'nothing unsigned was sent');
  } finally {
    await server.close();
  }
});

test('credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN by default', () => {
  assert.deepEqual(
    awsCredentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c' }),
    {
      accessKeyId: 'a',
      secretAccessKey: 'b',
      sessionToken: 'c',
    },
  );
  assert.deepEqual(awsCredentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }), {
    accessKeyId: 'a',
    secretAccessKey: 'b',
  });
  assert.throws(
    () => awsCredentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a' }),
    (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_NO_CREDENTIALS',
  );
});

test('presignAwsUrl(): a GET with the signature in the query; a service checks it from the URL alone', async () => {
  const now = Date.UTC(2026, 10, 26, 15, 0, 0);
  const url = await presignAwsUrl(
    'https://bucket.s3.sa-east-1.amazonaws.com/reports/2026 Q3.pdf?versionId=7',
    {
      region: 'sa-east-1',
      service: 's3',
      credentials: KEY,
      expiresIn: 3600,
      now: () => now,
    },
  );
  assert.equal(url.pathname, '/reports/2026%20Q3.pdf');
  const q = url.searchParams;
  assert.equal(q.get('versionId'), '7');
  assert.equal(q.get('X-Amz-Credential'), 'AKIDEXAMPLE/20261126/sa-east-1/s3/aws4_request');
  assert.equal(q.get('X-Amz-Date'), '20261126T150000Z');
  assert.equal(q.get('X-Amz-Expires'), '3600');
  assert.equal(q.get('X-Amz-SignedHeaders'), 'host');
  // Check as a service does: the query without X-Amz-Signature, signed again.
  const signature = q.get('X-Amz-Signature')!;
  const unsigned = url.search.slice(1).replace(/&X-Amz-Signature=[0-9a-f]{64}$/, '');
  const signer = new SigV4Signer({ region: 'sa-east-1', service: 's3' });
  const canonicalQueryWithoutOurs = unsigned.split('&X-Amz-Algorithm=')[0]!;
  const again = signer.presign(
    {
      method: 'GET',
      path: url.pathname,
      query: canonicalQueryWithoutOurs,
      headers: [['host', url.host]],
      payloadHash: 'UNSIGNED-PAYLOAD',
    },
    KEY,
    now,
    3600,
  );
  assert.equal(again.signature, signature);
  await assert.rejects(
    presignAwsUrl('https://h/', { region: 'r', service: 's3', credentials: KEY, expiresIn: 604_801 }),
    (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_EXPIRES_RANGE',
  );
});
