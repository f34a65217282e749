import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConvoyError, errorMessage } from '@convoy/errors';
import type { Registry } from 'prom-client';
import type { Health } from './health.ts';

/** The subset of a pino logger the server uses. */
export interface HttpLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface HttpServerOptions {
  /** 0 picks a free port; read the chosen one from `RunningHttpServer.port`. */
  port: number;
  /** Default '0.0.0.0' (all interfaces, as a pod needs for probes). */
  host?: string;
  registry: Registry;
  health: Health;
  logger: HttpLogger;
}

export interface RunningHttpServer {
  readonly port: number;
  readonly host: string;
  /** Base URL a local client can use, e.g. http://127.0.0.1:9464. */
  readonly url: string;
  /** Stops accepting, drops open connections (scrapers keep them alive) and resolves once closed. Idempotent. */
  close(): Promise<void>;
}

export const HTTP_LISTEN_FAILED = 'HTTP_LISTEN_FAILED';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * One HTTP port per service: GET /metrics (Prometheus text of `registry`), GET /healthz (200 while
 * live, else 503), GET /readyz (200 when every readiness check passes, else 503 with the failing
 * checks in a JSON body). HEAD works like GET; other methods get 405, other paths 404.
 * Resolves once listening; rejects with HTTP_LISTEN_FAILED (not retriable) when the port is taken.
 */
export function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { registry, health, logger } = options;
  const host = options.host ?? '0.0.0.0';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      try {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      } catch (error) {
        logger.warn({ err: error }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${errorMessage(error)}\n`);
      }
      return;
    }
    if (path === '/healthz') {
      const live = health.isLive();
      sendJson(res, live ? 200 : 503, { status: live ? 'live' : 'not live' });
      return;
    }
    const report = health.readiness();
    sendJson(res, report.ready ? 200 : 503, report.ready ? { status: 'ready', checks: report.checks } : { status: 'not ready', failing: report.failing, checks: report.checks });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.warn({ err: error }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      reject(new ConvoyError(HTTP_LISTEN_FAILED, `cannot listen on ${host}:${options.port}: ${error.message}`, { retriable: false, cause: error }));
    });
    server.listen(options.port, host, () => {
      const port = (server.address() as AddressInfo).port;
      const localHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      const url = `http://${localHost}:${port}`;
      logger.info({ host, port }, 'http server listening (/metrics, /healthz, /readyz)');
      let closing: Promise<void> | undefined;
      resolve({
        port,
        host,
        url,
        close() {
          closing ??= new Promise<void>((done, fail) => {
            server.close((error) => (error === undefined ? done() : fail(error)));
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
