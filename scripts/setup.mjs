// Prepares a checkout for `npm start` and `npm test` on a fresh machine: installs the
// devDependencies when they are missing, then builds TypeScript into dist/ from scratch so
// that no stale compiled test outlives its source.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

if (!existsSync(join(root, 'node_modules', 'typescript', 'package.json'))) {
  console.log('[setup] installing devDependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
if (process.argv.includes('--peers')) run(process.execPath, [join(root, 'scripts', 'install-peers.mjs')]);
if (process.argv.includes('--bench'))
  run(process.execPath, [join(root, 'scripts', 'install-peers.mjs'), '--bench']);
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  join(root, 'tsconfig.json'),
]);
