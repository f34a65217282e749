import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { ConvoyError } from '@convoy/errors';
import { HTTP_LISTEN_FAILED } from '@convoy/telemetry';
import type { ShutdownLogger } from './shutdown.ts';
import { createServiceShell, type ShellLogger } from './service-shell.ts';

interface Line {
  bindings: Record<string, unknown>;
  obj: object;
  msg: string | undefined;
}

/** A logger whose children record into the same list, tagged with their bindings. */
function recorder(lines: Line[] = [], bindings: Record<string, unknown> = {}): ShellLogger & ShutdownLogger & { lines: Line[] } {
  const at = (obj: object, msg?: string) => void lines.push({ bindings, obj, msg });
  return { lines, info: at, warn: at, error: at, child: (more) => recorder(lines, { ...bindings, ...more }) };
}

const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: 5_000 };

async function refused(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => false,
    () => true,
  );
}

describe('createServiceShell', () => {
  it('serves metrics named convoy_<name>_ with the service label and the readiness set before start', async () => {
    const shell = createServiceShell({ name: 'demo-thing', config, logger: recorder() });
    shell.metrics.counter({ name: 'events_total', help: 'Events' }).inc(4);
    shell.health.setReady('topics', false, 'not checked yet');
    const service = await shell.start(async () => ({}));
    try {
      const text = await (await fetch(`http://127.0.0.1:${service.port}/metrics`)).text();
      assert.match(text, /^convoy_demo_thing_events_total\{service="demo-thing"\} 4$/m);
      const ready = await fetch(`http://127.0.0.1:${service.port}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(((await ready.json()) as { failing: unknown }).failing, [{ name: 'topics', ready: false, detail: 'not checked yet' }]);
    } finally {
      await service.stop();
    }
  });

  it('closes HTTP last: after every step the wiring registered', async () => {
    const shell = createServiceShell({ name: 'svc', config, logger: recorder() });
    const ran: string[] = [];
    let servedDuringDrain: number | undefined;
    const service = await shell.start(async (http) => {
      shell.shutdown.register('disconnect', () => void ran.push('disconnect'));
      shell.shutdown.register('stop-processor', async () => {
        ran.push('stop-processor');
        servedDuringDrain = (await fetch(`${http.url}/healthz`)).status;
      });
      return {};
    });
    await service.stop();
    const report = await service.shutdown.run('again');
    assert.deepEqual(ran, ['stop-processor', 'disconnect']);
    assert.deepEqual(
      report.steps.map((step) => [step.name, step.status]),
      [
        ['stop-processor', 'ok'],
        ['disconnect', 'ok'],
        ['http', 'ok'],
      ],
    );
    assert.equal(servedDuringDrain, 200);
    assert.equal(await refused(service.port), true);
  });

  it('returns port, metrics, shutdown, stop and the extras; stop runs the shutdown once with reason stop', async () => {
    const shell = createServiceShell({ name: 'svc', config, logger: recorder() });
    let disconnects = 0;
    const service = await shell.start(async () => {
      shell.shutdown.register('disconnect', () => void disconnects++);
      return { seed: 42, counters: { eventsIn: 0 } };
    });
    assert.deepEqual(Object.keys(service).sort(), ['counters', 'metrics', 'port', 'seed', 'shutdown', 'stop']);
    assert.equal(service.metrics, shell.metrics);
    assert.equal(service.shutdown, shell.shutdown);
    assert.equal(service.seed, 42);
    assert.equal(typeof service.port, 'number');
    assert.equal(await service.stop(), undefined);
    await service.stop();
    assert.equal(disconnects, 1);
    assert.equal((await service.shutdown.run('later')).reason, 'stop');
  });

  it('lets the extras replace stop (e.g. one returning the report)', async () => {
    const shell = createServiceShell({ name: 'svc', config, logger: recorder() });
    const service = await shell.start(async () => ({ stop: (reason = 'stop') => shell.shutdown.run(reason) }));
    const report = await service.stop('drain');
    assert.equal(report.reason, 'drain');
    assert.deepEqual(report.steps.map((step) => step.name), ['http']);
  });

  it('a failing wiring runs the shutdown (reason start failed) and rethrows the same error', async () => {
    const logger = recorder();
    const shell = createServiceShell({ name: 'svc', config, logger });
    const failure = new ConvoyError('TOPIC_MISSING', 'no input topic');
    let port = 0;
    let disconnected = false;
    await assert.rejects(
      shell.start(async (http) => {
        port = http.port;
        shell.shutdown.register('disconnect', () => void (disconnected = true));
        throw failure;
      }),
      (error) => error === failure,
    );
    assert.equal(disconnected, true);
    const report = await shell.shutdown.run('later');
    assert.equal(report.reason, 'start failed');
    assert.deepEqual(report.steps.map((step) => step.name), ['disconnect', 'http']);
    assert.equal(await refused(port), true);
    const started = logger.lines.find((line) => line.msg === 'shutdown started');
    assert.deepEqual(started?.bindings, { component: 'shutdown' });
  });

  it('a taken port rejects with HTTP_LISTEN_FAILED before wiring and before any shutdown', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const shell = createServiceShell({ name: 'svc', config: { ...config, HTTP_PORT: taken }, logger: recorder() });
      let wired = false;
      await assert.rejects(
        shell.start(async () => {
          wired = true;
          return {};
        }),
        (error: unknown) => error instanceof ConvoyError && error.code === HTTP_LISTEN_FAILED,
      );
      assert.equal(wired, false);
      assert.equal(shell.shutdown.started, false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('logs HTTP on httpLogger when given, shutdown on the shutdown child', async () => {
    const logger = recorder();
    const httpLines: Line[] = [];
    const shell = createServiceShell({ name: 'svc', config, logger, httpLogger: recorder(httpLines, { component: 'http' }) });
    const service = await shell.start(async () => ({}));
    await service.stop();
    assert.deepEqual(
      httpLines.map((line) => [line.bindings, line.msg]),
      [[{ component: 'http' }, 'http server listening (/metrics, /healthz, /readyz)']],
    );
    assert.equal(logger.lines.some((line) => line.msg?.startsWith('http server')), false);
    assert.deepEqual(
      logger.lines.map((line) => line.msg),
      ['shutdown started', 'shutdown step http done', 'shutdown complete'],
    );
  });
});
