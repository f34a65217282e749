/**
 * Runs bench/convoy/relay.ts as an OS process, like the harness's ServiceProcess does for
 * services/<name>/src/main.ts (which cannot start a file outside services/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/harness/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class RelayProcess {
  readonly name: string;
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exit: Promise<unknown>;
  readonly #log: string[] = [];

  private constructor(name: string, port: number, env: Record<string, string>) {
    this.name = name;
    this.port = port;
    this.#child = spawn(process.execPath, ['bench/convoy/relay.ts'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', KAFKA_SESSION_TIMEOUT_MS: '6000', ...env, HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.#log.push(line);
      if (this.#log.length > 200) this.#log.splice(0, this.#log.length - 200);
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#exit = once(this.#child, 'exit');
  }

  static async start(name: string, env: Record<string, string>): Promise<RelayProcess> {
    return new RelayProcess(name, await freePort(), env);
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async ready(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.#log.slice(-30).join('\n')}`);
      const status = await fetch(`http://127.0.0.1:${this.port}/readyz`).then((r) => r.status, () => 0);
      if (status === 200) return;
      await sleep(200);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.#log.slice(-30).join('\n')}`);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGKILL');
    await this.#exit;
  }
}
