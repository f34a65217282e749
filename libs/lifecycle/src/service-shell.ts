import { createHealth, createMetrics, startHttpServer, type Health, type HttpLogger, type Metrics, type RunningHttpServer } from '@convoy/telemetry';
import { createShutdown, type Shutdown, type ShutdownLogger } from './shutdown.ts';

/** The subset of a pino logger the shell uses: HTTP logs on it, shutdown logs on its `component: 'shutdown'` child. */
export interface ShellLogger extends HttpLogger {
  child(bindings: Record<string, unknown>): ShutdownLogger;
}

/** The connection settings every service config carries (`connectionFields` of @convoy/config). */
export interface ShellConfig {
  HTTP_PORT: number;
  HTTP_HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
}

export interface ServiceShellOptions {
  /** The service's name: metric prefix `convoy_<name, - as _>_`, default label `service=<name>`. */
  name: string;
  config: ShellConfig;
  logger: ShellLogger;
  /** Logger for the HTTP server; default `logger`. */
  httpLogger?: HttpLogger;
}

/** What `startService` of every service returns, plus its own extras. */
export interface ServiceHandle {
  readonly port: number;
  readonly metrics: Metrics;
  readonly shutdown: Shutdown;
  stop(): Promise<void>;
}

export interface ServiceShell {
  readonly shutdown: Shutdown;
  readonly metrics: Metrics;
  readonly health: Health;
  /**
   * Starts HTTP (`/metrics`, `/healthz`, `/readyz`), registers its close as the FIRST shutdown step
   * (so it runs last: probes and metrics stay up through the drain), then runs `wire`.
   * If `wire` throws, the shutdown runs with reason `start failed` (undoing whatever `wire` had
   * registered) and the error is rethrown. A failure to listen throws before any shutdown step exists.
   * Resolves with `{ port, metrics, shutdown, stop }` and the extras `wire` returned (extras win,
   * e.g. a `stop` returning the report).
   */
  start<Extras extends object>(wire: (http: RunningHttpServer) => Promise<Extras>): Promise<Omit<ServiceHandle, keyof Extras> & Extras>;
}

/**
 * The shell every service wires inside: shutdown, a fresh metrics registry, health. Define metrics and
 * readiness checks on it, then `start` the wiring (clients → core → start), registering each
 * teardown step on `shutdown` as it goes.
 */
export function createServiceShell(options: ServiceShellOptions): ServiceShell {
  const { name, config, logger } = options;
  const shutdown = createShutdown({ logger: logger.child({ component: 'shutdown' }), timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const metrics = createMetrics({ prefix: `convoy_${name.replaceAll('-', '_')}_`, defaultLabels: { service: name } });
  const health = createHealth();
  return {
    shutdown,
    metrics,
    health,
    async start<Extras extends object>(wire: (http: RunningHttpServer) => Promise<Extras>) {
      const http = await startHttpServer({ port: config.HTTP_PORT, host: config.HTTP_HOST, registry: metrics.registry, health, logger: options.httpLogger ?? logger });
      shutdown.register('http', () => http.close());
      const handle: ServiceHandle = {
        port: http.port,
        metrics,
        shutdown,
        async stop() {
          await shutdown.run('stop');
        },
      };
      try {
        return { ...handle, ...(await wire(http)) };
      } catch (error) {
        await shutdown.run('start failed');
        throw error;
      }
    },
  };
}
