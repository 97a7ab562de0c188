#!/usr/bin/env node
/**
 * The `avx` command line. Until the server and client land it only explains itself;
 * `avx serve` and `avx get URL` will compose the public API here and nothing more.
 */
import { VERSION } from '../version.js';

const usage = `avx-http ${VERSION}

Usage:
  avx serve [--port 8080] [--host 127.0.0.1]   start the demo server (coming with the server issue)
  avx get URL                                  fetch a URL, curl-style (coming with the client issue)
  avx --version                                print the version

Today the package ships its foundation: core HTTP types, runtime primitives and an HTTP/1.1 codec.
  import { H1Parser, Headers, Status } from 'avx-http';
Run the tests with \`npm test\` and the parser benchmark with \`npm run bench\`.`;

const arg = process.argv[2];
if (arg === '--version' || arg === '-v') {
  console.log(VERSION);
} else {
  console.log(usage);
}
