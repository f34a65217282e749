// Shell: the logical clock's HTTP API (docs/services/watermarks.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { ConvoyError } from '@convoy/errors';
import type { Logger } from '@convoy/logging';
import { BlockCounter, COUNTER_INVALID_COUNT, type Allocation } from './block-counter.ts';
import type { ReservationLog } from './durable-counter.ts';

/**
 * Serialises allocations over one `BlockCounter`: a reservation is written (and acknowledged)
 * before any number under it is handed out. A failed write hands out nothing.
 */
export class CounterDispenser {
  readonly counter: BlockCounter;
  readonly #log: ReservationLog;
  #chain: Promise<unknown> = Promise.resolve();
  #onAllocated: (allocation: Allocation) => void;

  constructor(counter: BlockCounter, log: ReservationLog, onAllocated: (allocation: Allocation) => void = () => undefined) {
    this.counter = counter;
    this.#log = log;
    this.#onAllocated = onAllocated;
  }

  next(count: number): Promise<Allocation> {
    const run = this.#chain.then(async () => {
      const bound = this.counter.reservationFor(count);
      if (bound !== undefined) {
        await this.#log.write(bound);
        this.counter.confirmReserved(bound);
      }
      const allocation = this.counter.allocate(count);
      this.#onAllocated(allocation);
      return allocation;
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

export interface CounterHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * `POST /next?count=n` → 200 `{"first":a,"last":b}` (n defaults to 1; bad n → 400
 * `{"error":"COUNTER_INVALID_COUNT",...}`; a failed durable write → 503, nothing handed out).
 * `GET /current` → 200 `{"lastHandedOut","reservedUpTo","next","watermark"}`.
 */
export async function startCounterHttp(options: {
  dispenser: CounterDispenser;
  currentWatermark: () => number | undefined;
  port: number;
  host: string;
  logger: Logger;
}): Promise<CounterHttpServer> {
  const { dispenser, logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://counter');
    if (url.pathname === '/next') {
      if (req.method !== 'POST') return reply(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'use POST /next?count=n' });
      const raw = url.searchParams.get('count') ?? '1';
      const count = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
      try {
        const { first, last } = await dispenser.next(count);
        return reply(res, 200, { first, last });
      } catch (error) {
        const convoy = error instanceof ConvoyError ? error : undefined;
        if (convoy?.code === COUNTER_INVALID_COUNT) return reply(res, 400, { error: convoy.code, message: convoy.message });
        logger.warn({ err: error }, 'counter reservation failed; nothing handed out');
        return reply(res, 503, { error: convoy?.code ?? 'COUNTER_UNAVAILABLE', message: (error as Error).message });
      }
    }
    if (url.pathname === '/current') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'use GET /current' });
      const c = dispenser.counter;
      return reply(res, 200, { lastHandedOut: c.lastHandedOut, reservedUpTo: c.reservedUpTo, next: c.next, watermark: options.currentWatermark() ?? null });
    }
    return reply(res, 404, { error: 'NOT_FOUND', message: 'POST /next?count=n or GET /current' });
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    void handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'counter request failed');
      if (!res.headersSent) reply(res, 500, { error: 'INTERNAL', message: 'internal error' });
    });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
