/**
 * Runs the real Prometheus tools for the telemetry tests: `promtool check metrics` on an
 * exposition, and a Prometheus server on loopback that scrapes a target, queried through its
 * HTTP API (polled, never a fixed sleep; bounded).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../free-port.js';

export { freePort };

/** Runs `promtool check metrics` with `exposition` on stdin; resolves with its exit code and output. */
export function promtoolCheckMetrics(exposition: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(exposition);
  });
}

/** A Prometheus server started for a test. */
export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    readonly log: () => string,
  ) {}

  /** Starts Prometheus scraping `target` (`host:port`) every second at `metricsPath`. */
  static async start(target: string, metricsPath: string): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'avx-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: avx',
        `    metrics_path: ${metricsPath}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    let log = '';
    const child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => {
      log += d;
    });
    child.stderr?.on('data', (d) => {
      log += d;
    });
    return new PrometheusServer(child, dir, port, () => log);
  }

  /** Runs an instant query; resolves with the result vector (empty while not scraped yet). */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: never[] } };
    if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  /**
   * Polls `expr` until `accept` says yes, every 250 ms for at most `ms`; resolves with the last
   * result (or undefined when Prometheus never answered).
   */
  async poll(
    expr: string,
    accept: (result: { metric: Record<string, string>; value: [number, string] }[]) => boolean,
    ms = 30_000,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[] | undefined> {
    const deadline = Date.now() + ms;
    let last: { metric: Record<string, string>; value: [number, string] }[] | undefined;
    while (Date.now() < deadline) {
      try {
        last = await this.query(expr);
        if (accept(last)) return last;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    return last;
  }

  /** Stops the server and removes its data. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
