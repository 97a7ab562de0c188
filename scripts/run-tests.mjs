/**
 * Runs every compiled test file (dist/test/**\/*.test.js, in name order) with node:test, in an
 * environment without the OpenTelemetry SDK's `OTEL_*` variables: tracing reads them as
 * defaults (src/telemetry/tracing/otel-environment.ts), so a developer's own settings
 * (`OTEL_SERVICE_NAME`, an endpoint, a sampler) would change what the tests see.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The `*.test.js` files under `dir`, recursively. */
function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path));
    else if (entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const files = testFiles('dist/test').sort();
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
const run = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
