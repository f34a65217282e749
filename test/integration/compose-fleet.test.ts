// `pnpm start` end to end on the real broker: scripts/fleet.ts runs every Convoy container of
// docker-compose.yml as a process (under a private FLEET_NAMESPACE and port range, so it shares the
// cluster with nothing), a bounded demo run settles, `convoy verify` passes on the namespaced
// topics, and a real scrape of every service exposes every metric the Grafana dashboard queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName } from '../harness/stack.ts';
import { exprProblems } from '../deploy/grafana-metric-names.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EVENTS = 1500;

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A base with 16 free ports after it. */
async function freePortRange(): Promise<number> {
  for (;;) {
    // Below the ephemeral range (32768+), where outgoing connections could take a port meanwhile.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await Promise.all(Array.from({ length: 16 }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

/** Series names on a /metrics page: sample lines, and `# TYPE` names (labelled series with no sample yet). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)/.exec(line);
    if (typed !== null) {
      const [, name, kind] = typed;
      names.add(name!);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
    } else if (line !== '' && !line.startsWith('#')) names.add(line.split(/[{ ]/)[0]!);
  }
  return names;
}

test('pnpm start runs the compose fleet: verify passes, and every dashboard metric is really exposed', { timeout: 600_000 }, async () => {
  const brokers = process.env['KAFKA_BROKERS']!;
  const ns = uniqueName('fleet');
  const base = await freePortRange();
  const fleet = spawn(process.execPath, ['scripts/fleet.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      FLEET_NAMESPACE: ns,
      FLEET_PORT_BASE: String(base),
      FLEET_EXIT_WHEN_PRODUCED: 'true',
      FLEET_STATUS_INTERVAL_MS: '2000',
      DEMO_COUNT: String(EVENTS),
      DEMO_RATE: '500',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  fleet.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  fleet.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(fleet, 'exit');
  try {
    // The launcher prints every service's address once all are spawned.
    let targets: { name: string; url: string }[] = [];
    for (let i = 0; i < 600 && targets.length === 0; i++) {
      const line = /--targets (\S+)/.exec(output)?.[1];
      if (line !== undefined) targets = line.split(',').map((t) => ({ name: t.split('=')[0]!, url: `http://${t.split('=')[1]!}` }));
      else await sleep(200);
    }
    assert.deepEqual(
      targets.map((t) => t.name),
      ['splitter', 'worker-1', 'worker-2', 'worker-3', 'worker-4', 'merger', 'reorder-buffer', 'watermark-generator', 'watermark-forwarder', 'aggregator', 'demo-producer'],
      output,
    );
    assert.deepEqual(
      targets.map((t) => Number(new URL(t.url).port)),
      targets.map((_, i) => base + i),
    );

    // Scrape every service once the merger has released events (all stages have run by then).
    const exposed = new Set<string>();
    const deadline = Date.now() + 300_000;
    for (;;) {
      const pages = await Promise.all(targets.filter((t) => t.name !== 'demo-producer').map((t) => fetch(`${t.url}/metrics`).then((r) => r.text(), () => '')));
      const merger = pages[targets.findIndex((t) => t.name === 'merger')] ?? '';
      const released = Number(/^convoy_merger_events_out_total\S* (\S+)/m.exec(merger)?.[1] ?? 0);
      const producer = await fetch(`${targets.at(-1)!.url}/metrics`).then((r) => r.text(), () => '');
      for (const page of [...pages, producer]) for (const name of exposedNames(page)) exposed.add(name);
      if (released > 0 && pages.every((p) => p !== '')) break;
      assert.ok(Date.now() < deadline, `no release within 300 s:\n${output}`);
      await sleep(1_000);
    }
    const dashboard = JSON.parse(readFileSync(`${ROOT}deploy/compose/grafana/dashboards/convoy.json`, 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exposedOrUp = new Set([...exposed, 'up']);
    const problems = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => exprProblems(t.expr, exposedOrUp)));
    assert.deepEqual(problems, [], 'dashboard metrics missing from the real scrape');

    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, output);
    assert.match(output, /demo-producer finished/);
    assert.match(output, /fleet: settled: merger out \d+/);

    const verify = spawnSync(
      process.execPath,
      ['cli/src/main.ts', '--brokers', brokers, 'verify', '--input', `${ns}.input`, '--output', `${ns}.ordered`, '--dlq', `${ns}.dlq`, '--late', `${ns}.ordered.late`, '--timeout', '120s'],
      { cwd: ROOT, encoding: 'utf8', timeout: 200_000 },
    );
    assert.equal(verify.status, 0, `${verify.stdout}\n${verify.stderr}`);
    const settled = Number(/fleet: settled: merger out (\d+)/.exec(output)![1]);
    const dlq = Number([...output.matchAll(/dlq (\d+)/g)].at(-1)![1]);
    assert.equal(settled + dlq, EVENTS, 'every event released in order or dead-lettered');
  } finally {
    if (fleet.exitCode === null && fleet.signalCode === null) {
      fleet.kill('SIGTERM');
      await exited;
    }
  }
});
