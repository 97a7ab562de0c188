#!/usr/bin/env node
/**
 * The `avx` command line: `avx serve` runs the demo app (multi-core, TLS optional) and
 * `avx get` is a curl-like client. It only composes the public API.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runCluster } from '../server/cluster.js';
import type { Server } from '../server/server.js';
import { aggregateClusterMetrics } from '../telemetry/metrics/cluster-metrics-aggregator.js';
import { VERSION } from '../version.js';
import { GET_HELP, GetUsageError, get } from './avx-get.js';
import { createDemoApp, DEMO_PUBLIC_DIR } from './demo-app.js';

const HELP = `avx-http ${VERSION}

Usage:
  avx serve [options]     start the demo server
  avx get <url> [options] send a request, print the response (curl-like; avx get --help)
  avx --version           print the version
  avx --help              this text

avx serve options:
  --port <n>              TCP port (default 8080; 0 picks a free one)
  --host <addr>           interface to bind (default 127.0.0.1)
  --workers <n>           worker processes (default: number of CPUs; 1 runs in this process)
  --static <dir>          folder served under /static and as / (default: the demo page)
  --tls-cert <file>       PEM certificate: serve HTTPS (TLS 1.3)
  --tls-key <file>        PEM private key for --tls-cert
  --http3                 serve HTTP/3 too (QUIC on the same port number, UDP); needs
                          --tls-cert and --workers 1
  --help                  this text
`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      workers: { type: 'string' },
      static: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      http3: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`invalid --port ${values.port}`);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new UsageError(`invalid --workers ${values.workers}`);
  }
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  if (values.http3 && certFile === undefined) throw new UsageError('--http3 needs --tls-cert and --tls-key');
  // QUIC connections are found by connection id in one process; cluster workers sharing one
  // UDP port would each see packets of the others' connections.
  if (values.http3 && workers !== 1) throw new UsageError('--http3 needs --workers 1');
  const tls =
    certFile !== undefined ? { cert: readFileSync(certFile), key: readFileSync(keyFile!) } : undefined;
  const publicDir = values.static ?? DEMO_PUBLIC_DIR;

  const start = (): Promise<Server> =>
    createDemoApp(publicDir).listen({ port, host: values.host, tls, http3: values.http3 });

  if (workers === 1) {
    const server = await start();
    console.log(`avx: serving the demo on ${server.url}${values.http3 ? ' (HTTP/3 too, UDP)' : ''}`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  const { default: cluster } = await import('node:cluster');
  if (cluster.isPrimary) {
    // The demo's /metrics shows every worker's metrics: the primary merges them on each scrape.
    aggregateClusterMetrics();
    console.log(
      `avx: serving the demo on ${urlOf(tls !== undefined, values.host!, port)} with ${workers ?? 'one worker per CPU'}${workers === undefined ? '' : ' workers'} (Ctrl-C stops)`,
    );
  }
  await runCluster(start, { workers });
  if (cluster.isPrimary) process.exit(0);
}

function urlOf(secure: boolean, host: string, port: number): string {
  return `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'get':
      process.exitCode = await get(rest);
      return;
    case '--version':
    case '-v':
      console.log(VERSION);
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(HELP);
      return;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main().catch((err) => {
  if (
    err instanceof GetUsageError ||
    (process.argv[2] === 'get' && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
  ) {
    console.error(`avx: ${(err as Error).message}\n\n${GET_HELP}`);
    process.exit(2);
  }
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`avx: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
