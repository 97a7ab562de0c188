/**
 * Availability of the real peers (Debian programs) some tests talk to. A test whose peer is
 * missing skips with a message on someone's plain machine, but fails under CI=true, where
 * scripts/install-peers.mjs must have installed it.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const cache = new Map<string, boolean>();

/** True when `command` is on the PATH. */
export function hasPeer(command: string): boolean {
  let found = cache.get(command);
  if (found === undefined) {
    found = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
    cache.set(command, found);
  }
  return found;
}

/**
 * Returns true when `command` is available. Otherwise skips the test with a message (or
 * throws under CI=true) and returns false.
 */
export function requirePeer(t: TestContext, command: string): boolean {
  if (hasPeer(command)) return true;
  const message = `${command} is not installed (scripts/install-peers.mjs installs it)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must have it`);
  t.skip(message);
  return false;
}
