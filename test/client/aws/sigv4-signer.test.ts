import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsSigV4Error } from '../../../src/client/aws/aws-sigv4-error.js';
import {
  canonicalHeaderValue,
  canonicalQuery,
  normalizeSigv4Path,
  sigv4UriEncode,
} from '../../../src/client/aws/sigv4-canonical-request.js';
import { amzDate, SigV4Signer, sha256Hex } from '../../../src/client/aws/sigv4-signer.js';
import { loadSigv4Cases, type RawRequest, requireSigv4Vectors, type Sigv4Case } from './sigv4-vectors.js';

function setup(c: Sigv4Case) {
  const signer = new SigV4Signer({
    region: c.context.region,
    service: c.context.service,
    normalizePath: c.context.normalize,
    doubleEncodePath: true,
  });
  const credentials = {
    accessKeyId: c.context.credentials.access_key_id,
    secretAccessKey: c.context.credentials.secret_access_key,
    sessionToken: c.context.credentials.token,
  };
  const request = {
    method: c.request.method,
    path: c.request.path,
    query: c.request.query,
    headers: c.request.headers,
    payloadHash: sha256Hex(c.request.body),
  };
  const options = {
    payloadHashHeader: c.context.sign_body,
    omitSessionToken: c.context.omit_session_token === true,
  };
  return { signer, credentials, request, options, time: Date.parse(c.context.timestamp) };
}

/** Header fields as sorted `name:canonical value` lines, for comparing signed requests. */
function fieldLines(request: RawRequest): string[] {
  return request.headers.map(([n, v]) => `${n.toLowerCase()}:${canonicalHeaderValue(v)}`).sort();
}

test('the AWS SigV4 test suite: Authorization header signing, all four outputs of every case', (t) => {
  if (!requireSigv4Vectors(t)) return;
  const cases = loadSigv4Cases();
  assert.ok(cases.length >= 38, `expected the 38 cases, found ${cases.length}`);
  for (const c of cases) {
    const { signer, credentials, request, options, time } = setup(c);
    const signed = signer.sign(request, credentials, time, options);
    const expected = c.expected.header;
    assert.equal(signed.canonicalRequest, expected.canonicalRequest, `${c.name}: canonical request`);
    assert.equal(signed.stringToSign, expected.stringToSign, `${c.name}: string to sign`);
    assert.equal(signed.signature, expected.signature, `${c.name}: signature`);
    const out: RawRequest = {
      ...c.request,
      headers: [...c.request.headers, ...signed.headers.map(([n, v]) => [n, v] as [string, string])],
    };
    assert.deepEqual(fieldLines(out), fieldLines(expected.signedRequest), `${c.name}: signed request fields`);
    assert.equal(expected.signedRequest.target, c.request.target, `${c.name}: target unchanged`);
    assert.equal(out.body, expected.signedRequest.body, `${c.name}: body`);
  }
});

test('the AWS SigV4 test suite: presigned URLs (query signing), all four outputs of every case', (t) => {
  if (!requireSigv4Vectors(t)) return;
  for (const c of loadSigv4Cases()) {
    const { signer, credentials, request, options, time } = setup(c);
    const signed = signer.presign(request, credentials, time, c.context.expiration_in_seconds, {
      omitSessionToken: options.omitSessionToken,
    });
    const expected = c.expected.query;
    assert.equal(signed.canonicalRequest, expected.canonicalRequest, `${c.name}: canonical request`);
    assert.equal(signed.stringToSign, expected.stringToSign, `${c.name}: string to sign`);
    assert.equal(signed.signature, expected.signature, `${c.name}: signature`);
    assert.equal(
      `${c.request.path}?${signed.query}`,
      expected.signedRequest.target,
      `${c.name}: signed target`,
    );
    assert.deepEqual(
      fieldLines(c.request),
      fieldLines(expected.signedRequest),
      `${c.name}: fields unchanged`,
    );
  }
});

test('URI encoding keeps only RFC 3986 unreserved characters (and / in paths), uppercase hex, UTF-8', () => {
  assert.equal(sigv4UriEncode('a-b_c.d~e', false), 'a-b_c.d~e');
  assert.equal(sigv4UriEncode('a b/c+d=e*f', false), 'a%20b%2Fc%2Bd%3De%2Af');
  assert.equal(sigv4UriEncode('/a b/c', true), '/a%20b/c');
  assert.equal(sigv4UriEncode('ሴ', false), '%E1%88%B4');
  assert.equal(sigv4UriEncode('%2F', true), '%252F', 'an encoded path is encoded again');
});

test('path normalisation removes dot segments and empty segments (RFC 3986 §5.2.4)', () => {
  assert.equal(normalizeSigv4Path('/'), '/');
  assert.equal(normalizeSigv4Path('//a//b//'), '/a/b/');
  assert.equal(normalizeSigv4Path('/a/b/../c'), '/a/c');
  assert.equal(normalizeSigv4Path('/a/b/..'), '/a/');
  assert.equal(normalizeSigv4Path('/../../a'), '/a');
  assert.equal(normalizeSigv4Path('/a/.'), '/a/');
});

test('canonical query: decoded and re-encoded, sorted by name then value, bare names get =', () => {
  assert.equal(canonicalQuery('b=2&a=3&a=1&c'), 'a=1&a=3&b=2&c=');
  assert.equal(canonicalQuery('k=a%2fb&k2=a/b&sp=a%20b&plus=a+b'), 'k=a%2Fb&k2=a%2Fb&plus=a%2Bb&sp=a%20b');
  assert.equal(canonicalQuery('bad=%zz&&x=%E1%88%B4'), 'bad=%25zz&x=%E1%88%B4');
  assert.equal(canonicalQuery(''), '');
});

test('the signing key is reused within a day and derived again for a new day or secret', () => {
  const signer = new SigV4Signer({ region: 'sa-east-1', service: 'execute-api' });
  const request = {
    method: 'GET',
    path: '/',
    query: '',
    headers: [['host', 'h'] as [string, string]],
    payloadHash: sha256Hex(''),
  };
  const day1 = Date.UTC(2026, 10, 26, 10);
  const a = signer.sign(request, { accessKeyId: 'A', secretAccessKey: 's1' }, day1);
  const b = signer.sign(request, { accessKeyId: 'A', secretAccessKey: 's2' }, day1);
  const c = signer.sign(request, { accessKeyId: 'A', secretAccessKey: 's1' }, day1);
  const d = signer.sign(request, { accessKeyId: 'A', secretAccessKey: 's1' }, day1 + 86_400_000);
  assert.notEqual(a.signature, b.signature);
  assert.equal(a.signature, c.signature);
  assert.notEqual(a.signature, d.signature);
  assert.match(
    d.headers.find(([n]) => n === 'Authorization')![1],
    /Credential=A\/20261127\/sa-east-1\/execute-api\/aws4_request/,
  );
});

test('amzDate formats UTC as YYYYMMDDTHHMMSSZ', () => {
  assert.equal(amzDate(Date.UTC(2015, 7, 30, 12, 36, 0, 999)), '20150830T123600Z');
});

test('presign refuses a lifetime outside 1 s .. 7 days, and bad scopes, with typed errors', () => {
  const signer = new SigV4Signer({ region: 'us-east-1', service: 's3' });
  const request = {
    method: 'GET',
    path: '/',
    query: '',
    headers: [['host', 'h'] as [string, string]],
    payloadHash: 'UNSIGNED-PAYLOAD',
  };
  const creds = { accessKeyId: 'A', secretAccessKey: 'S' };
  for (const expires of [0, 604_801, 1.5, Number.NaN]) {
    assert.throws(
      () => signer.presign(request, creds, 0, expires),
      (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_EXPIRES_RANGE',
    );
  }
  assert.ok(signer.presign(request, creds, 0, 604_800).query.includes('X-Amz-Expires=604800'));
  for (const region of ['', 'us/east', 'us east']) {
    assert.throws(
      () => new SigV4Signer({ region, service: 's3' }),
      (e: unknown) => e instanceof AwsSigV4Error && e.code === 'AVX_SIGV4_BAD_SCOPE',
    );
  }
});

test('s3 signs the path as it is: no normalisation, no second encoding', () => {
  const s3 = new SigV4Signer({ region: 'us-east-1', service: 's3' });
  const other = new SigV4Signer({ region: 'us-east-1', service: 'service' });
  const request = {
    method: 'GET',
    path: '/bucket//a%20b/../c',
    query: '',
    headers: [['host', 'h'] as [string, string]],
    payloadHash: 'UNSIGNED-PAYLOAD',
  };
  const creds = { accessKeyId: 'A', secretAccessKey: 'S' };
  assert.equal(s3.sign(request, creds, 0).canonicalRequest.split('\n')[1], '/bucket//a%20b/../c');
  assert.equal(other.sign(request, creds, 0).canonicalRequest.split('\n')[1], '/bucket/c');
  assert.equal(
    other.sign({ ...request, path: '/a%20b' }, creds, 0).canonicalRequest.split('\n')[1],
    '/a%2520b',
  );
});
