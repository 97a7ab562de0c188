/**
 * `avx get <url>`: a curl-like client on the public `Client`, so a new user can talk to any
 * server (the demo first) in one command. The response body goes to stdout (or `-o` file) as
 * it arrives; `-i` puts the status line and header fields before it, `-v` writes the request
 * and response heads to stderr. Redirects are followed (at most 10, as the Client does) unless
 * `--no-location`.
 *
 * Exit status, as curl's where they mean the same: 0 once the response is received, whatever
 * its status; 22 with `--fail` for a status of 400 or more; 7 when no connection could be made;
 * 28 on a timeout; 47 after too many redirects; 23 when the output cannot be written; 2 for a usage error; 1 for anything else. Errors
 * print `avx: <code>: <message>` on stderr.
 */
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { awsSigV4 } from '../client/aws/aws-sigv4-policy.js';
import { Client, type ClientOptions } from '../client/client.js';
import type { ClientRequest } from '../client/client-request.js';
import type { ClientResponse } from '../client/client-response.js';
import type { RequestBodyInit } from '../client/request-body.js';

export const GET_HELP = `avx get <url> [options]   send a request, print the response body

  -X, --method <m>        request method (default GET; POST with --data or --json)
  -H, --header <h>        a header field, "Name: value" (repeatable)
  -d, --data <body>       request body; @file reads a file, @- reads stdin
      --json <body>       JSON body, with Content-Type and Accept: application/json
  -i, --include           print the status line and header fields before the body
  -I, --head              send HEAD and print the status line and header fields
  -o, --output <file>     write the body to a file instead of stdout
  -v, --verbose           print the request and response heads on stderr
  -f, --fail              exit 22 on a status of 400 or more
      --no-location       do not follow redirects
      --http2             HTTP/2 with prior knowledge over cleartext (h2c)
      --http1.1           HTTP/1.1 only (https too)
      --http3             HTTP/3 over QUIC (https only; the certificate is always checked)
      --cacert <file>     PEM certificates to trust instead of Node's roots
      --raw               do not decode gzip / deflate / br bodies
      --timeout <ms>      total time allowed (default: none)
  -k, --insecure          do not verify the server's TLS certificate
      --aws-sigv4 <r:s>   sign with AWS SigV4 for region:service (AWS_* credentials)
`;

/** A usage error: exit 2 with the help text. */
export class GetUsageError extends Error {}

/** curl's exit status for a client error code. */
function exitStatusOf(code: string | undefined): number {
  switch (code) {
    case 'AVX_CLIENT_CONNECT_FAILED':
      return 7;
    case 'AVX_CLIENT_CONNECT_TIMEOUT':
    case 'AVX_CLIENT_HEADERS_TIMEOUT':
    case 'AVX_CLIENT_BODY_TIMEOUT':
    case 'AVX_CLIENT_REQUEST_TIMEOUT':
      return 28;
    case 'AVX_CLIENT_TOO_MANY_REDIRECTS':
      return 47;
    default:
      return 1;
  }
}

/** `Name: value` lines of a header list, CRLF-free, for printing. */
function headLines(headers: Iterable<[string, string]>): string {
  let out = '';
  for (const [name, value] of headers) out += `${name}: ${value}\n`;
  return out;
}

/** The request body of `--data`: text, a file (`@file`) or stdin (`@-`), read as a stream. */
function dataBody(data: string): RequestBodyInit {
  if (data === '@-') return process.stdin;
  if (data.startsWith('@')) return createReadStream(data.slice(1));
  return data;
}

/** Runs `avx get`; resolves with the exit status. */
export async function get(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      method: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      json: { type: 'string' },
      include: { type: 'boolean', short: 'i', default: false },
      head: { type: 'boolean', short: 'I', default: false },
      output: { type: 'string', short: 'o' },
      verbose: { type: 'boolean', short: 'v', default: false },
      fail: { type: 'boolean', short: 'f', default: false },
      'no-location': { type: 'boolean', default: false },
      http2: { type: 'boolean', default: false },
      'http1.1': { type: 'boolean', default: false },
      http3: { type: 'boolean', default: false },
      cacert: { type: 'string' },
      raw: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      insecure: { type: 'boolean', short: 'k', default: false },
      'aws-sigv4': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(GET_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new GetUsageError('avx get takes one URL');
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    throw new GetUsageError(`not a URL: ${positionals[0]}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GetUsageError(`only http: and https: URLs, not ${url.protocol}`);
  }
  if (values.data !== undefined && values.json !== undefined) {
    throw new GetUsageError('--data and --json go separately');
  }
  if (Number(values.http2) + Number(values['http1.1']) + Number(values.http3) > 1) {
    throw new GetUsageError('--http2, --http1.1 and --http3 go separately');
  }
  if (values.http3 && url.protocol !== 'https:') throw new GetUsageError('--http3 needs an https: URL');
  if (values.http3 && values.insecure)
    throw new GetUsageError('--http3 always checks the certificate: use --cacert');
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    throw new GetUsageError(`invalid --timeout ${values.timeout}`);
  }
  const headers: [string, string][] = [];
  for (const line of values.header ?? []) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new GetUsageError(`a header is "Name: value", not ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  let body: RequestBodyInit | undefined;
  if (values.json !== undefined) {
    body = values.json;
    if (!headers.some(([n]) => n.toLowerCase() === 'content-type'))
      headers.push(['content-type', 'application/json']);
    if (!headers.some(([n]) => n.toLowerCase() === 'accept')) headers.push(['accept', 'application/json']);
  } else if (values.data !== undefined) {
    body = dataBody(values.data);
    if (!headers.some(([n]) => n.toLowerCase() === 'content-type')) {
      headers.push(['content-type', 'application/x-www-form-urlencoded']);
    }
  }
  const method = values.method ?? (values.head ? 'HEAD' : body !== undefined ? 'POST' : 'GET');

  const options: ClientOptions = {
    decompress: !values.raw,
    http2: values.http2 ? true : values['http1.1'] ? false : undefined,
    tls:
      values.insecure || values.cacert !== undefined
        ? {
            rejectUnauthorized: !values.insecure,
            ca: values.cacert === undefined ? undefined : readFileSync(values.cacert),
          }
        : undefined,
    http3: values.http3 ? 'only' : undefined,
    retry: false,
  };
  const client = new Client(options);
  if (values['aws-sigv4'] !== undefined) {
    const [region, service] = values['aws-sigv4'].split(':');
    if (!region || !service) throw new GetUsageError('--aws-sigv4 takes region:service, e.g. sa-east-1:s3');
    client.use(awsSigV4({ region, service }));
  }
  if (values.verbose) {
    client.onRequest((request: ClientRequest) => {
      let out = `> ${request.method} ${request.url.pathname}${request.url.search}\n> host: ${request.url.host}\n`;
      for (const [name, value] of request.headers.entries()) out += `> ${name}: ${value}\n`;
      process.stderr.write(`${out}>\n`);
      return undefined;
    });
  }
  try {
    const res: ClientResponse = await client.request({
      url,
      method,
      headers,
      body,
      timeout,
      redirect: values['no-location'] ? 'manual' : 'follow',
    });
    const head = `HTTP/${res.httpVersion} ${res.status}${res.statusText === '' ? '' : ` ${res.statusText}`}\n${headLines(
      res.headers.entries(),
    )}\n`;
    if (values.verbose) {
      let out = '';
      for (const line of head.slice(0, -1).split('\n')) out += `< ${line}\n`;
      process.stderr.write(out);
    }
    if (values.include || values.head) process.stdout.write(head);
    if (values.fail && res.status >= 400) {
      await res.dump();
      process.stderr.write(`avx: the server answered ${res.status}\n`);
      return 22;
    }
    if (values.head || method === 'HEAD') {
      await res.dump();
      return 0;
    }
    const sink = values.output === undefined ? process.stdout : createWriteStream(values.output);
    await pipeline(res.stream(), sink, { end: values.output !== undefined });
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // The reader of stdout went away (`avx get ... | head`): curl's "failure writing output".
    if (code === 'EPIPE') return 23;
    process.stderr.write(`avx: ${code ?? 'error'}: ${(err as Error).message}\n`);
    return exitStatusOf(code);
  } finally {
    await client.close();
  }
}
