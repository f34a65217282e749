/**
 * Runs Convoy services as real OS processes, the way they run in production, so tests can
 * `kill -9` them. Each process gets its own HTTP port; `ready()` polls its /readyz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceProcessOptions {
  /** Service folder name under services/, e.g. 'splitter'. */
  readonly service: string;
  readonly env: Record<string, string>;
  /** Label for logs, e.g. 'worker-2'. */
  readonly name?: string;
}

export class ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly #options: ServiceProcessOptions;
  #child: ChildProcess | undefined;
  #exit: Promise<number | null> | undefined;
  #log: string[] = [];

  private constructor(options: ServiceProcessOptions, port: number) {
    this.#options = options;
    this.name = options.name ?? options.service;
    this.port = port;
  }

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const proc = new ServiceProcess(options, await freePort());
    proc.spawn();
    return proc;
  }

  spawn(): void {
    const child = spawn(process.execPath, [`services/${this.#options.service}/src/main.ts`], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', KAFKA_SESSION_TIMEOUT_MS: '6000', ...this.#options.env, HTTP_PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // CONVOY_TEST_LOG_DIR keeps every line of every process (the in-memory tail keeps the last 400).
    const logDir = process.env['CONVOY_TEST_LOG_DIR'];
    const file = logDir ? createWriteStream(join(logDir, `${this.name}-${child.pid}.log`)) : undefined;
    if (file !== undefined) child.once('close', () => file.end()); // 'close': after the last stdio chunk
    const keep = (chunk: Buffer) => {
      file?.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.#log.push(line);
      if (this.#log.length > 400) this.#log.splice(0, this.#log.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#child = child;
    this.#exit = once(child, 'exit').then(([code]) => code as number | null);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the process printed (JSON logs), for failure messages. */
  logTail(lines = 40): string {
    return this.#log.slice(-lines).join('\n');
  }

  logs(): readonly string[] {
    return this.#log;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.logTail()}`);
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/readyz`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.logTail()}`);
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return response.text();
  }

  /** Sum of every sample of a metric (all label sets), 0 when absent. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumMetric(await this.metrics(), name, labels);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.#child?.kill(signal);
    await this.#exit;
  }

  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    this.spawn();
    await this.ready();
  }

  async stop(): Promise<number | null> {
    if (!this.running) return this.#child?.exitCode ?? null;
    this.#child?.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 30_000);
    const code = await this.#exit;
    clearTimeout(timer);
    return code ?? null;
  }
}

export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}
