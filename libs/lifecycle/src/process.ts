import { inspect } from 'node:util';
import { isConvoyError } from '@convoy/errors';
import type { Shutdown, ShutdownLogger } from './shutdown.ts';

/** The part of `process` these helpers touch; tests pass an EventEmitter with an exit spy. */
export interface SignalProcess {
  on(event: 'SIGTERM' | 'SIGINT' | 'SIGHUP', listener: () => void): unknown;
  removeListener(event: 'SIGTERM' | 'SIGINT' | 'SIGHUP', listener: () => void): unknown;
  exit(code: number): void;
}

export interface ExitProcess {
  exit(code: number): void;
}

export interface ServiceProcess extends ExitProcess {
  stderr: { write(text: string): unknown };
}

export interface SignalOptions {
  signals?: readonly ('SIGTERM' | 'SIGINT' | 'SIGHUP')[];
  logger?: Pick<ShutdownLogger, 'warn'>;
}

/**
 * Runs the shutdown and then exits: `exitCode` (default 0) when every step succeeded in time,
 * else 1. Use it for non-signal stops too, e.g. when the run loop crashed: `shutdownAndExit(s, 'run loop failed', process, 1)`.
 */
export async function shutdownAndExit(shutdown: Shutdown, reason: string, proc: ExitProcess, exitCode = 0): Promise<void> {
  const report = await shutdown.run(reason);
  proc.exit(report.ok ? exitCode : 1);
}

/**
 * The one place that listens to process signals. The first SIGTERM/SIGINT runs the shutdown and
 * exits with 0 (1 on timeout or a failed step); another signal while it runs exits(1) at once, so an
 * operator pressing Ctrl-C twice is never stuck. Returns a function that removes the listeners.
 */
export function installSignalHandlers(shutdown: Shutdown, proc: SignalProcess = process, options: SignalOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let received: string | undefined;
  const listeners = signals.map((signal) => {
    const listener = () => {
      if (received !== undefined) {
        options.logger?.warn({ signal, first: received }, `second signal ${signal} during shutdown; exiting now`);
        proc.exit(1);
        return;
      }
      received = signal;
      void shutdownAndExit(shutdown, `received ${signal}`, proc);
    };
    proc.on(signal, listener);
    return { signal, listener };
  });
  return () => {
    for (const { signal, listener } of listeners) proc.removeListener(signal, listener);
  };
}

/** How a fatal startup error reads on stderr: configuration problems plainly, anything else with its stack and cause. */
export function formatFatal(error: unknown): string {
  if (isConvoyError(error) && error.code === 'CONFIG_INVALID') return error.message;
  if (isConvoyError(error)) return `fatal: ${error.code}: ${inspect(error)}`;
  return `fatal: ${error instanceof Error ? inspect(error) : String(error)}`;
}

/**
 * Entry point for a service's main.ts: `await runService(main)`. `main` parses config, wires the
 * service, installs signal handlers and returns once started. If it throws, the error is printed to
 * stderr (a CONFIG_INVALID message exactly as written, so the operator sees which variables to fix)
 * and the process exits with 1. Nothing has been consumed yet, so nothing needs draining.
 */
export async function runService(main: () => unknown, proc: ServiceProcess = process): Promise<void> {
  try {
    await main();
  } catch (error) {
    proc.stderr.write(`${formatFatal(error)}\n`);
    proc.exit(1);
  }
}
