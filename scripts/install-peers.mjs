// Installs the real peers the test suite talks to (Debian packages), when they are missing:
// curl, chromium (a browser loading the demo page), nginx (an origin for the client), and
// the peers other tests list below. Runs from
// scripts/setup.mjs before the tests; with `--bench` (scripts/setup.mjs --bench, before
// `npm run bench`) it installs the benchmarks' load generators instead: wrk and h2load. It needs root and apt-get; elsewhere it only reports
// what is missing, and the tests that need a missing peer skip (or fail when CI=true).
import { execFileSync, spawnSync } from 'node:child_process';

const PEERS = [
  { command: 'curl', pkg: 'curl' },
  { command: 'chromium', pkg: 'chromium' },
  { command: 'nghttp', pkg: 'nghttp2-client' },
  { command: 'nginx', pkg: 'nginx-light' },
  { command: 'promtool', pkg: 'prometheus' },
  { command: 'prometheus', pkg: 'prometheus' },
  { command: 'gtlsclient', pkg: 'ngtcp2-client' },
  { command: 'gtlsserver', pkg: 'ngtcp2-server' },
  { command: 'redis-server', pkg: 'redis-server' },
];
/** The load generators of bench/ (taskset comes with util-linux, on every Debian). */
const BENCH_PEERS = [
  { command: 'wrk', pkg: 'wrk' },
  { command: 'h2load', pkg: 'nghttp2-client' },
  { command: 'taskset', pkg: 'util-linux' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = (process.argv.includes('--bench') ? BENCH_PEERS : PEERS).filter((p) => !has(p.command));

if (missing.length > 0) {
  const names = [...new Set(missing.map((p) => p.pkg))];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !has('apt-get')) {
    console.log(
      `[setup] missing peers (${names.join(', ')}); install them with apt-get to run everything that needs them`,
    );
  } else {
    console.log(`[setup] installing test peers: ${names.join(', ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], {
        stdio: 'inherit',
        env,
      });
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
      install();
    }
  }
}
