/**
 * Headless Chromium as a test peer: loads a URL in a fresh profile and returns the DOM after the
 * page's scripts ran (`--dump-dom`). Flags as in ../shared/peers/README.md: no sandbox (root), no
 * background networking (the machine has no network), a virtual time budget.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChromiumOptions {
  /** Extra command-line flags, e.g. `--ignore-certificate-errors`. */
  flags?: string[];
  /** Virtual time the page gets, in ms. Default 5000. */
  budgetMs?: number;
  /** Wall-clock limit for the browser process, in ms. Default 60000. */
  timeoutMs?: number;
}

/** The DOM of `url` after loading it in headless Chromium. */
export function chromiumDom(url: string, options: ChromiumOptions = {}): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'avx-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...(options.flags ?? []),
    `--virtual-time-budget=${options.budgetMs ?? 5000}`,
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      'chromium',
      args,
      { timeout: options.timeoutMs ?? 60000, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        rmSync(profile, { recursive: true, force: true });
        if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
