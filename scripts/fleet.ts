// `pnpm start` (`pnpm fleet`): every Convoy container of docker-compose.yml as a local process, on
// the local stack, with the environment compose gives it (scripts/fleet-plan.ts), a live status
// line, logs in .stack/fleet/. Ctrl-C stops everything (SIGTERM, graceful; SIGKILL after 30 s).
//   KAFKA_BROKERS (required), SCHEMA_REGISTRY_URL; compose variables (DEMO_RATE, DEMO_COUNT, ...)
//   are read from this environment as compose reads them. FLEET_DEMO_RATE=0: no demo producer.
//   FLEET_NAMESPACE: rename every convoy.* topic and convoy-* group (a second fleet on one cluster);
//   FLEET_PORT_BASE: HTTP ports from there instead of 9500/9509/9510+/9520+. FLEET_STATUS_INTERVAL_MS (5000). FLEET_EXIT_WHEN_PRODUCED=true: stop once the demo producer
//   finished and the merger has released everything for 10 s (for bounded runs and tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { namespaceProcess, planFleet, type PlannedProcess } from './fleet-plan.ts';

const brokers = process.env['KAFKA_BROKERS'];
if (brokers === undefined || brokers === '') {
  process.stderr.write('KAFKA_BROKERS is not set: run `eval "$(bash scripts/stack.sh up)"` first, or use `bash scripts/fleet.sh`\n');
  process.exit(2);
}
const registry = process.env['SCHEMA_REGISTRY_URL'];
const logDir = '.stack/fleet';
mkdirSync(logDir, { recursive: true });
const statusEveryMs = Number(process.env['FLEET_STATUS_INTERVAL_MS'] ?? 5_000);
const exitWhenProduced = process.env['FLEET_EXIT_WHEN_PRODUCED'] === 'true';

for (const gone of ['FLEET_WORKERS', 'FLEET_SOURCE_PARTITIONS']) {
  if (process.env[gone] !== undefined) process.stderr.write(`fleet: ${gone} is no longer read: the fleet is docker-compose.yml (docs/deploy-compose.md)\n`);
}
const hostEnv: Record<string, string | undefined> = { ...process.env };
// The first launcher's knob, kept: FLEET_DEMO_RATE sets the demo rate; 0 leaves the producer out.
if (process.env['FLEET_DEMO_RATE'] !== undefined && process.env['DEMO_RATE'] === undefined) hostEnv['DEMO_RATE'] = process.env['FLEET_DEMO_RATE'];
const withoutProducer = hostEnv['DEMO_RATE'] === '0';

const addresses: Record<string, string> = { 'kafka:9092': brokers };
// Without a local registry the services run without one (JSON payloads need none).
addresses['http://registry:8080/apis/ccompat/v7'] = registry ?? '';
const portBase = process.env['FLEET_PORT_BASE'] === undefined ? undefined : Number(process.env['FLEET_PORT_BASE']);
const planned = planFleet(readFileSync('docker-compose.yml', 'utf8'), { hostEnv, addresses, ...(portBase === undefined ? {} : { ports: {}, nextPort: portBase }) })
  .filter((p) => !(withoutProducer && p.name === 'demo-producer'))
  .map((p) => (registry === undefined ? { ...p, env: Object.fromEntries(Object.entries(p.env).filter(([k]) => k !== 'SCHEMA_REGISTRY_URL')) } : p));

/** The string defaults of a service's config schema (the `*Schema` export of its config.ts). */
const schemaDefaults = async (script: string): Promise<Record<string, string>> => {
  const config = script.replace(/main\.ts$/, 'config.ts');
  if (!script.startsWith('services/') || !existsSync(config)) return {};
  const module = (await import(`../${config}`)) as Record<string, unknown>;
  const schema = Object.entries(module).find(([name]) => name.endsWith('Schema'))?.[1] as Record<string, { defaultValue?: unknown }> | undefined;
  return Object.fromEntries(Object.entries(schema ?? {}).flatMap(([key, field]) => (typeof field.defaultValue === 'string' ? [[key, field.defaultValue]] : [])));
};
const namespace = process.env['FLEET_NAMESPACE'];
const plan = namespace === undefined || namespace === '' ? planned : await Promise.all(planned.map(async (p) => namespaceProcess(p, await schemaDefaults(p.script), namespace)));

interface Child { planned: PlannedProcess; proc: ChildProcess; finished: boolean }
const children: Child[] = [];
let stopping = false;

const spawnLogged = (p: PlannedProcess): ChildProcess => {
  const out = createWriteStream(`${logDir}/${p.name}.log`, { flags: 'a' });
  const proc = spawn(process.execPath, [p.script, ...p.args], {
    // The compose environment wins over the launcher's, as inside the container.
    env: { ...process.env, ...p.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which then stops each
    // child once, with SIGTERM (a second signal would make a service skip its graceful shutdown).
    detached: true,
  });
  proc.stdout?.pipe(out);
  proc.stderr?.pipe(out);
  return proc;
};

/** A one-shot (topic-init) must exit 0 before any service starts, as compose's service_completed_successfully. */
const runOneShot = async (p: PlannedProcess): Promise<void> => {
  const code = await new Promise<number | null>((resolve) => spawnLogged(p).once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`${p.name} exited with ${code}; see ${logDir}/${p.name}.log`);
};

// Like compose's `restart: on-failure`: a service that fails (at start, e.g. racing another one's
// topic creation) is started again after 2, 4, 8 ... s, at most MAX_RESTARTS times.
const MAX_RESTARTS = 5;
const start = (p: PlannedProcess) => {
  const child: Child = { planned: p, proc: spawnLogged(p), finished: false };
  let restarts = 0;
  const watch = () =>
    child.proc.once('exit', (code, signal) => {
      child.finished = true;
      if (stopping) return;
      if (code === 0) return void process.stdout.write(`${p.name} finished\n`);
      const again = restarts < MAX_RESTARTS;
      process.stderr.write(`${p.name} exited (${signal ?? code}); see ${logDir}/${p.name}.log${again ? '; restarting' : ''}\n`);
      if (!again) return;
      setTimeout(() => {
        if (stopping) return;
        restarts++;
        child.proc = spawnLogged(p);
        child.finished = false;
        watch();
      }, 2_000 * 2 ** restarts);
    });
  watch();
  children.push(child);
};

for (const p of plan.filter((q) => q.kind === 'one-shot')) {
  process.stdout.write(`fleet: ${p.name}: ${p.script} ${p.args.join(' ')}\n`);
  await runOneShot(p);
}
const services = plan.filter((p) => p.kind === 'service');
for (const p of services) start(p);

/** Sum (or max) of a metric's samples whose labels contain `labels` (e.g. 'by="timeout"'); NaN when unreachable. */
const metric = async (port: number | undefined, name: string, labels = '', reduce: 'sum' | 'max' = 'sum'): Promise<number> => {
  if (port === undefined) return Number.NaN;
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const values = text
      .split('\n')
      .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
      .map((l) => Number(l.split(' ').pop()));
    if (reduce === 'sum') return values.reduce((sum, v) => sum + v, 0);
    return values.length === 0 ? Number.NaN : Math.max(...values);
  } catch {
    return Number.NaN;
  }
};
const portOf = (name: string) => services.find((p) => p.name === name)?.port;
const sumOver = async (prefix: string, name: string, labels = '') =>
  (await Promise.all(services.filter((p) => p.name.startsWith(prefix)).map((p) => metric(p.port, name, labels)))).reduce((a, b) => a + b, 0);

let lastOut = -1;
let lastProduced = 0;
let settledSince: number | undefined;
const status = setInterval(async () => {
  const [splitIn, mergeOut, byMarker, byTimeout, late, dlq, results, wm] = await Promise.all([
    metric(portOf('splitter'), 'convoy_splitter_events_in_total'),
    metric(portOf('merger'), 'convoy_merger_events_out_total'),
    metric(portOf('merger'), 'convoy_merger_gaps_resolved_total', 'by="marker"'),
    metric(portOf('merger'), 'convoy_merger_gaps_resolved_total', 'by="timeout"'),
    metric(portOf('merger'), 'convoy_merger_late_total'),
    metric(portOf('splitter'), 'convoy_splitter_dead_lettered_total'),
    metric(portOf('aggregator'), 'convoy_aggregator_results_total'),
    metric(portOf('aggregator'), 'convoy_aggregator_watermark_lag_ms', '', 'max'),
  ]);
  const workers = services.filter((p) => p.name.startsWith('worker-'));
  const hit = await Promise.all(workers.map((p) => metric(p.port, 'convoy_worker_cache_hit_ratio')));
  const workersOut = await sumOver('worker-', 'convoy_worker_events_out_total');
  const producer = children.find((c) => c.planned.name === 'demo-producer');
  if (producer !== undefined && !producer.finished) {
    const sent = await metric(producer.planned.port, 'convoy_demo_producer_events_total');
    if (!Number.isNaN(sent)) lastProduced = sent;
  }
  // A producer with DEMO_COUNT exits 0 only once every event is sent.
  const produced = producer === undefined ? 'no producer' : producer.finished ? `produced ${producer.planned.env['DEMO_COUNT'] || lastProduced} (done)` : `produced ${lastProduced}`;
  process.stdout.write(
    `${new Date().toISOString()} ${produced}  splitter in ${splitIn}  workers out ${workersOut}  merger out ${mergeOut}  ` +
      `gaps by marker ${byMarker} / timeout ${byTimeout}  late ${late}  dlq ${dlq}  windows out ${results}  ` +
      `aggregator wm lag ${Number.isNaN(wm) ? '-' : `${Math.round(wm / 1000)}s`}  cache hit ${hit.map((h) => h.toFixed(2)).join('/')}\n`,
  );
  if (exitWhenProduced && producer?.finished === true) {
    if (mergeOut !== lastOut) {
      lastOut = mergeOut;
      settledSince = Date.now();
    } else if (settledSince !== undefined && Date.now() - settledSince >= 10_000) {
      process.stdout.write(`fleet: settled: merger out ${mergeOut}\n`);
      void stop();
    }
  }
}, statusEveryMs);

const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(status);
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
const statusTargets = children.filter((c) => c.planned.port !== undefined).map((c) => `${c.planned.name}=127.0.0.1:${c.planned.port}`);
process.stdout.write(
  `fleet: a table of every service: pnpm convoy status --targets ${statusTargets.join(',')}\n` +
  `fleet: ${children.map((c) => `${c.planned.name} :${c.planned.port}`).join(', ')}; logs in ${logDir}/; Ctrl-C stops\n`,
);
