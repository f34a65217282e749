import { ConvoyError, errorMessage } from '@convoy/errors';

/** The subset of a pino logger shutdown uses. */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type ShutdownStep = () => void | Promise<void>;

/** `skipped`: not started because the time limit ran out first. */
export type StepStatus = 'ok' | 'failed' | 'timed-out' | 'skipped';

export interface StepReport {
  name: string;
  status: StepStatus;
  durationMs: number;
  error?: string;
}

export interface ShutdownReport {
  reason: string;
  /** Every step finished without error inside the time limit. */
  ok: boolean;
  timedOut: boolean;
  durationMs: number;
  /** In the order the steps ran (reverse of registration). */
  steps: StepReport[];
}

export interface ShutdownOptions {
  logger: ShutdownLogger;
  /** Bound on the whole shutdown, all steps together. */
  timeoutMs: number;
  /** Millisecond clock for step durations. Default performance.now. */
  now?: () => number;
}

/**
 * Graceful shutdown as a stack of named steps.
 *
 * Contract:
 * - Steps run one at a time in REVERSE registration order. A service registers as it wires
 *   (config → clients → core → start), so teardown runs start → core → clients: stop fetching,
 *   drain in-flight work, commit, then disconnect — never disconnect before the commit.
 * - `run` executes once; later calls (a second signal, a crash during shutdown) return the same
 *   promise.
 * - Each step is logged with its duration. A failing step is logged and the next steps still run.
 * - The whole run is bounded by `timeoutMs`: when it expires, the running step is reported
 *   `timed-out`, the rest `skipped` (never started), and the promise resolves with `timedOut: true`.
 *   It never rejects.
 */
export interface Shutdown {
  /** Adds a step. Names are unique. Throws SHUTDOWN_STARTED once `run` was called. */
  register(name: string, step: ShutdownStep): void;
  run(reason: string): Promise<ShutdownReport>;
  readonly started: boolean;
}

export const SHUTDOWN_STARTED = 'SHUTDOWN_STARTED';

export function createShutdown(options: ShutdownOptions): Shutdown {
  const { logger, timeoutMs } = options;
  // Durations are whole milliseconds: steps are ms-scale, and sub-ms noise only clutters the logs.
  const clock = options.now ?? (() => performance.now());
  const now = () => Math.round(clock());
  const steps: { name: string; step: ShutdownStep }[] = [];
  let running: Promise<ShutdownReport> | undefined;

  async function execute(reason: string): Promise<ShutdownReport> {
    const startedAt = now();
    const order = [...steps].reverse();
    const reports: StepReport[] = order.map(({ name }) => ({ name, status: 'skipped', durationMs: 0 }));
    let timedOut = false;
    let current = -1;
    let currentStartedAt = startedAt;
    logger.info({ reason, steps: order.map(({ name }) => name), timeoutMs }, 'shutdown started');

    const work = (async () => {
      for (const [index, { name, step }] of order.entries()) {
        current = index;
        currentStartedAt = now();
        try {
          await step();
          if (timedOut) return;
          const durationMs = now() - currentStartedAt;
          reports[index] = { name, status: 'ok', durationMs };
          logger.info({ step: name, durationMs }, `shutdown step ${name} done`);
        } catch (error) {
          if (timedOut) return;
          const durationMs = now() - currentStartedAt;
          reports[index] = { name, status: 'failed', durationMs, error: errorMessage(error) };
          logger.error({ step: name, durationMs, err: error }, `shutdown step ${name} failed; continuing`);
        }
      }
      current = order.length;
    })();

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([work.then(() => 'done' as const), deadline]);
    clearTimeout(timer);

    if (outcome === 'timeout') {
      timedOut = true;
      const stuck = reports[current];
      if (stuck !== undefined) {
        reports[current] = { name: stuck.name, status: 'timed-out', durationMs: now() - currentStartedAt };
      }
      logger.error(
        { step: stuck?.name, timeoutMs, skipped: reports.filter((r) => r.status === 'skipped').map((r) => r.name) },
        `shutdown timed out after ${timeoutMs} ms`,
      );
    }
    const durationMs = now() - startedAt;
    const ok = !timedOut && reports.every((r) => r.status === 'ok');
    logger.info({ reason, ok, timedOut, durationMs }, ok ? 'shutdown complete' : 'shutdown finished with problems');
    return { reason, ok, timedOut, durationMs, steps: reports };
  }

  return {
    register(name, step) {
      if (running !== undefined) {
        throw new ConvoyError(SHUTDOWN_STARTED, `cannot register shutdown step ${name}: shutdown already started`, { retriable: false });
      }
      if (steps.some((s) => s.name === name)) throw new ConvoyError('SHUTDOWN_STEP_DUPLICATE', `shutdown step ${name} is already registered`);
      steps.push({ name, step });
    },
    run(reason) {
      if (running !== undefined) {
        logger.warn({ reason }, 'shutdown already running; waiting for it');
        return running;
      }
      running = execute(reason);
      return running;
    },
    get started() {
      return running !== undefined;
    },
  };
}
