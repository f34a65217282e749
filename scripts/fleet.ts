// `pnpm fleet`: the sequential convoy on the local stack, every service a child process, with an
// optional demo producer and a live status line. Ctrl-C stops everything (SIGTERM, graceful).
//   FLEET_WORKERS (4), FLEET_SOURCE_PARTITIONS (3), FLEET_DEMO_RATE events/s (200; 0 = none)
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createKafkaClients, createBatchedProducer, ensureTopics } from '@convoy/kafka';
import { createLogger } from '@convoy/logging';

const brokers = process.env['KAFKA_BROKERS'];
if (brokers === undefined || brokers === '') {
  process.stderr.write('KAFKA_BROKERS is not set: run `eval "$(bash scripts/stack.sh up)"` first, or use `bash scripts/fleet.sh`\n');
  process.exit(2);
}
const workers = Number(process.env['FLEET_WORKERS'] ?? 4);
const sourcePartitions = Number(process.env['FLEET_SOURCE_PARTITIONS'] ?? 3);
const demoRate = Number(process.env['FLEET_DEMO_RATE'] ?? 200);
const logDir = '.stack/fleet';
mkdirSync(logDir, { recursive: true });

const logger = createLogger({ name: 'fleet', level: 'warn', pretty: false });
const clients = createKafkaClients({ KAFKA_BROKERS: brokers.split(','), KAFKA_SSL: false } as Parameters<typeof createKafkaClients>[0], { logger, clientId: 'convoy-fleet' });
await ensureTopics(clients, [
  { topic: 'convoy.input', partitions: sourcePartitions },
  { topic: 'convoy.substreams', partitions: workers },
  { topic: 'convoy.processed', partitions: sourcePartitions },
  { topic: 'convoy.dlq', partitions: 1 },
]);

interface Child { name: string; port: number; proc: ChildProcess }
const children: Child[] = [];
const start = (service: string, name: string, port: number, env: Record<string, string> = {}) => {
  const out = createWriteStream(`${logDir}/${name}.log`, { flags: 'a' });
  const proc = spawn(process.execPath, [`services/${service}/src/main.ts`], {
    env: { ...process.env, HTTP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which then stops each
    // child once, with SIGTERM (a second signal would make a service skip its graceful shutdown).
    detached: true,
  });
  proc.stdout?.pipe(out);
  proc.stderr?.pipe(out);
  proc.on('exit', (code, signal) => { if (!stopping) process.stderr.write(`${name} exited (${signal ?? code}); see ${logDir}/${name}.log\n`); });
  children.push({ name, port, proc });
};
let stopping = false;
start('splitter', 'splitter', 9500, { SPLITTER_SUBSTREAMS: String(workers) });
for (let i = 0; i < workers; i++) start('worker', `worker-${i}`, 9510 + i, { WORKER_PROCESSED_PARTITIONS: String(sourcePartitions), WORKER_PROCESSOR: 'enrich' });
start('merger', 'merger', 9509);

/** Sum of a metric's samples whose labels contain `labels` (e.g. 'by="timeout"'); NaN when unreachable. */
const metric = async (port: number, name: string, labels = ''): Promise<number> => {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  } catch {
    return Number.NaN;
  }
};

let produced = 0;
const producer = demoRate > 0 ? await createBatchedProducer(clients) : undefined;
const demo = producer === undefined ? undefined : setInterval(() => {
  const n = Math.max(1, Math.round(demoRate / 10));
  const records = Array.from({ length: n }, () => {
    const customerId = `customer-${Math.floor(Math.random() * 1000)}`;
    return { topic: 'convoy.input', key: customerId, value: JSON.stringify({ id: produced++, customerId, amount: Math.round(Math.random() * 50_000) / 100, at: Date.now() }) };
  });
  void producer.send(records).catch((error: unknown) => process.stderr.write(`demo producer: ${(error as Error).message}\n`));
}, 100);

const status = setInterval(async () => {
  const [inSplit, outMerge, gapsMarker, gapsTimeout] = await Promise.all([
    metric(9500, 'convoy_splitter_events_in_total'),
    metric(9509, 'convoy_merger_events_out_total'),
    metric(9509, 'convoy_merger_gaps_resolved_total', 'by="marker"'),
    metric(9509, 'convoy_merger_gaps_resolved_total', 'by="timeout"'),
  ]);
  const hit = await Promise.all(children.filter((c) => c.name.startsWith('worker')).map((c) => metric(c.port, 'convoy_worker_cache_hit_ratio')));
  process.stdout.write(
    `${new Date().toISOString()} produced ${produced}  splitter in ${inSplit}  merger out ${outMerge}  gaps closed by marker ${gapsMarker} / by timeout ${gapsTimeout}  cache hit ${hit.map((h) => h.toFixed(2)).join('/')}\n`,
  );
}, 5_000);

// Children still running 30 s after SIGTERM are killed.
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(status);
  if (demo !== undefined) clearInterval(demo);
  await producer?.disconnect();
  await clients.disconnect();
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
          const force = setTimeout(() => c.proc.kill('SIGKILL'), 30_000);
          c.proc.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          c.proc.kill('SIGTERM');
        }),
    ),
  );
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
process.stdout.write(`fleet: splitter :9500, merger :9509, workers :9510..${9509 + workers}; logs in ${logDir}/; Ctrl-C stops\n`);
