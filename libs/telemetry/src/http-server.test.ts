import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConvoyError } from '@convoy/errors';
import { createHealth } from './health.ts';
import type { HttpLogger } from './http-server.ts';
import { startHttpServer } from './http-server.ts';
import { createMetrics } from './metrics.ts';

const quiet: HttpLogger = { info: () => {}, warn: () => {} };

async function start(t: { after: (fn: () => Promise<void>) => void }) {
  const metrics = createMetrics({ prefix: 'convoy_test_', defaultLabels: { service: 'test' } });
  const health = createHealth();
  const server = await startHttpServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, health, logger: quiet });
  t.after(() => server.close());
  return { metrics, health, server };
}

describe('startHttpServer', () => {
  it('listens on a free port when asked for port 0', async (t) => {
    const { server } = await start(t);
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  it('serves default and custom metrics as Prometheus text', async (t) => {
    const { metrics, server } = await start(t);
    metrics.counter({ name: 'events_in_total', help: 'Events read', labelNames: ['topic'] }).inc({ topic: 'convoy.input' }, 3);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^process_cpu_user_seconds_total\{service="test"\} \d/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds\{service="test"\} /m);
    assert.match(text, /^convoy_test_events_in_total\{topic="convoy.input",service="test"\} 3$/m);
  });

  it('answers /healthz with 200 while live and 503 after', async (t) => {
    const { health, server } = await start(t);
    let res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'live' });
    health.setLive(false);
    res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'not live' });
  });

  it('answers /readyz with 503 naming failing checks until all pass', async (t) => {
    const { health, server } = await start(t);
    health.setReady('kafka-connected', true);
    health.setReady('partitions-assigned', false, 'no assignment yet');
    let res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: 'not ready',
      failing: [{ name: 'partitions-assigned', ready: false, detail: 'no assignment yet' }],
      checks: [
        { name: 'kafka-connected', ready: true },
        { name: 'partitions-assigned', ready: false, detail: 'no assignment yet' },
      ],
    });
    health.setReady('partitions-assigned', true);
    res = await fetch(`${server.url}/readyz?verbose`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      status: 'ready',
      checks: [
        { name: 'kafka-connected', ready: true },
        { name: 'partitions-assigned', ready: true },
      ],
    });
  });

  it('returns 404 for other paths, 405 for other methods, and no body for HEAD', async (t) => {
    const { server } = await start(t);
    assert.equal((await fetch(`${server.url}/`)).status, 404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('rejects with HTTP_LISTEN_FAILED when the port is taken', async (t) => {
    const { server, metrics, health } = await start(t);
    await assert.rejects(
      startHttpServer({ port: server.port, host: '127.0.0.1', registry: metrics.registry, health, logger: quiet }),
      (error: unknown) => error instanceof ConvoyError && error.code === 'HTTP_LISTEN_FAILED' && !error.retriable && error.message.includes('EADDRINUSE'),
    );
  });

  it('closes with a request still in flight, and close() is idempotent', { timeout: 5000 }, async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let scrapeArrived = () => {};
    const arrived = new Promise<void>((resolve) => (scrapeArrived = resolve));
    metrics.gauge({
      name: 'stuck',
      help: 'A collect callback that never finishes',
      collect: () => {
        scrapeArrived();
        return new Promise<void>(() => {});
      },
    });
    const server = await startHttpServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, health: createHealth(), logger: quiet });
    const scrape = fetch(`${server.url}/metrics`);
    await arrived;
    await Promise.all([server.close(), server.close()]);
    await assert.rejects(scrape);
    await assert.rejects(fetch(`${server.url}/healthz`));
  });
});
