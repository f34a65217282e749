/**
 * Fault-injection helpers for test/faults/: a private Kafka broker that can be stopped and started
 * again (never the shared one), SIGSTOP/SIGCONT, RSS and metric sampling, a paced load generator
 * that survives a broker outage, and the verdicts for runs whose output is split over the ordered
 * and the late topic.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { orderEvents, type RunningConvoy } from './convoy.ts';
import { freePort, type ServiceProcess } from './processes.ts';
import { readTopic, testKafka, type ReadRecord } from './topics.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STACK_SCRIPTS = join(ROOT, 'scripts/stack');

/**
 * A single-node KRaft broker of its own (the jars scripts/stack.sh caches in .cache/stack), on free
 * ports and a temporary state dir, so a test may stop and start it while others use the shared one.
 * The JVM is started the way stack.sh starts it (its PLAINTEXT settings, same class path and main class)
 * and writes its pid to `<dir>/kafka/pid` like stack.sh does, so
 * `CONVOY_STACK_DIR=<dir> bash scripts/stack.sh down` also stops it if a test run was killed.
 */
export class PrivateBroker {
  readonly dir: string;
  readonly port: number;
  readonly controllerPort: number;
  #child: ChildProcess | undefined;
  #exit: Promise<unknown> | undefined;

  private constructor(dir: string, port: number, controllerPort: number) {
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  static async start(): Promise<PrivateBroker> {
    const cache = process.env['CONVOY_STACK_CACHE'] ?? join(ROOT, '.cache/stack');
    const libs = join(cache, 'kafka/libs');
    try {
      readFileSync(join(cache, 'kafka/.complete'));
    } catch {
      throw new Error(`no cached Kafka jars in ${cache}/kafka: run 'bash scripts/stack.sh up' once (it resolves them from Maven Central)`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'convoy-fault-broker-'));
    const broker = new PrivateBroker(dir, await freePort(), await freePort());
    const kafkaDir = join(dir, 'kafka');
    mkdirSync(kafkaDir, { recursive: true });
    writeFileSync(join(kafkaDir, 'server.properties'), brokerProperties(broker.port, broker.controllerPort, join(kafkaDir, 'data')));
    const format = spawnSync(
      'java',
      ['-cp', `${libs}/*`, ...broker.#jvmProps(), 'kafka.tools.StorageTool', 'format', '--standalone', '-t', 'convoy-fault-cluster-01', '-c', join(kafkaDir, 'server.properties')],
      { encoding: 'utf8' },
    );
    if (format.status !== 0) throw new Error(`formatting the private broker's storage failed:\n${format.stdout}\n${format.stderr}`);
    await broker.startKafka();
    return broker;
  }

  #jvmProps(): string[] {
    return [`-Dlog4j2.configurationFile=${join(STACK_SCRIPTS, 'log4j2.properties')}`, `-Dkafka.logs.dir=${join(this.dir, 'kafka')}`];
  }

  /** Starts the JVM (again, on the same data) and waits until a metadata request succeeds. */
  async startKafka(timeoutMs = 120_000): Promise<void> {
    if (this.running) return;
    const cache = process.env['CONVOY_STACK_CACHE'] ?? join(ROOT, '.cache/stack');
    const kafkaDir = join(this.dir, 'kafka');
    const out = openSync(join(kafkaDir, 'stdout.log'), 'a');
    const child = spawn(
      'java',
      ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', ...this.#jvmProps(), '-cp', `${cache}/kafka/libs/*`, 'kafka.Kafka', join(kafkaDir, 'server.properties')],
      { cwd: kafkaDir, detached: true, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    this.#child = child;
    this.#exit = once(child, 'exit');
    writeFileSync(join(kafkaDir, 'pid'), String(child.pid));
    await waitForBroker(this.brokers, timeoutMs, () => this.running);
  }

  /** Stops the broker JVM: SIGTERM is a controlled shutdown, SIGKILL a crash. Waits for the exit. */
  async stopKafka(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.#child?.kill(signal);
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 60_000);
    await this.#exit;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stopKafka('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(join(this.dir, 'kafka/server.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server.log)';
    }
  }
}

/**
 * The PLAINTEXT part of scripts/stack/server.properties.template, written out here so that this
 * broker does not depend on the listeners (SASL, TLS) the shared stack may add.
 */
function brokerProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'group.consumer.min.session.timeout.ms=6000',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

async function waitForBroker(brokers: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`the private broker ${brokers} exited during start-up`);
    const admin = new Kafka({ clientId: 'convoy-fault-probe', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2_000 }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch {
      // not up yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`the private broker ${brokers} was not ready after ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** Freezes a process (no CPU, no heartbeats, sockets stay open), like a long GC pause or a hung host. */
export function freeze(proc: ServiceProcess): void {
  if (proc.pid === undefined || !proc.running) throw new Error(`${proc.name} is not running`);
  process.kill(proc.pid, 'SIGSTOP');
}

export function thaw(proc: ServiceProcess): void {
  if (proc.pid !== undefined && proc.running) process.kill(proc.pid, 'SIGCONT');
}

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status), undefined once it is gone. */
export function rssKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export interface Sample<T> {
  readonly atMs: number;
  readonly value: T;
}

/** Calls `read` every `intervalMs` (a failed read is skipped) until `stop()`; samples keep their time since start. */
export function sampleEvery<T>(intervalMs: number, read: () => T | Promise<T>): { readonly samples: Sample<T>[]; stop(): Promise<void> } {
  const samples: Sample<T>[] = [];
  const started = Date.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        samples.push({ atMs: Date.now() - started, value: await read() });
      } catch {
        // a process restarting or a metric not there yet: skip this sample
      }
      await sleep(intervalMs, undefined, { ref: false }); // a sampler a failed test never stopped must not keep the process alive
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** /readyz of a process: its HTTP status, or 0 when nothing answers. */
export async function readyStatus(proc: ServiceProcess): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${proc.port}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await response.text();
    return response.status;
  } catch {
    return 0;
  }
}

/** Polls `check` until it returns true; throws `message()` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(message());
    await sleep(intervalMs);
  }
}

export interface Load {
  /** Events handed to the broker so far (a send retried after an error may have written a batch twice). */
  produced(): number;
  /** Send failures that were retried (broker down). */
  failures(): number;
  /** Resolves with the number of events sent once `total` are sent (or after `stop()`). */
  readonly done: Promise<number>;
  stop(): Promise<number>;
}

/**
 * Produces order events to `topic` at a steady `ratePerSec` until `total` are sent, in batches every
 * ~250 ms, falling behind rather than bursting. A failed send (broker down) is retried every second
 * with the same events: the input then may hold a batch twice, which the verdicts handle because
 * they compare against what the input topic really holds.
 */
export function startLoad(topic: string, options: { ratePerSec: number; total: number; customers?: number; seed?: number; padBytes?: number }): Load {
  const pad = options.padBytes === undefined ? '' : `,"pad":"${'x'.repeat(options.padBytes)}"`;
  const producer: Producer = testKafka().producer({ allowAutoTopicCreation: false, retry: { retries: 2 } });
  const batchSize = Math.max(1, Math.round(options.ratePerSec / 4));
  let sent = 0;
  let failures = 0;
  let stopped = false;
  const done = (async () => {
    await producer.connect();
    const started = Date.now();
    try {
      for (let chunk = 0; sent < options.total && !stopped; chunk++) {
        const count = Math.min(batchSize, options.total - sent);
        const events = orderEvents(count, options.customers ?? 1_000, (options.seed ?? 1) * 100_000 + chunk, sent);
        const messages = pad === '' ? events : events.map((e) => ({ ...e, value: `${String(e.value).slice(0, -1)}${pad}}` }));
        for (let attempt = 1; ; attempt++) {
          try {
            await producer.send({ topic, acks: -1, messages });
            break;
          } catch (error) {
            failures++;
            if (stopped) return sent;
            if (attempt >= 120) throw new Error(`load: ${topic} refused a batch for 2 minutes: ${(error as Error).message}`);
            await sleep(1_000);
          }
        }
        sent += count;
        const due = started + (sent / options.ratePerSec) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      return sent;
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  })();
  return {
    produced: () => sent,
    failures: () => failures,
    done,
    async stop() {
      stopped = true;
      return done.catch(() => sent);
    },
  };
}

/** Reads a topic until it holds at least `atLeast` records, then until it has been quiet for `idleMs`. */
export async function readSettled(topic: string, atLeast: number, timeoutMs = 180_000, idleMs = 4_000): Promise<ReadRecord[]> {
  if (atLeast > 0) await readTopic(topic, { until: (rs) => rs.length >= atLeast, timeoutMs });
  return readTopic(topic, { idleMs, timeoutMs: 120_000 });
}

export interface UnionVerdict {
  readonly ok: boolean;
  readonly expected: number;
  readonly ordered: number;
  readonly late: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly problems: string[];
}

/**
 * The verdict when a gap may have been skipped: per source partition, the ordered topic is strictly
 * increasing in seq (nothing out of order, nothing twice), every late record carries
 * `convoy-late: true`, and ordered ∪ late holds every input offset exactly once (nothing lost,
 * nothing duplicated across the two topics), with each record's value equal to its input's.
 */
export function unionVerdict(input: readonly ReadRecord[], ordered: readonly ReadRecord[], late: readonly ReadRecord[]): UnionVerdict {
  const problems: string[] = [];
  let missing = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  const partitions = new Set([...input, ...ordered, ...late].map((r) => r.partition));
  for (const p of [...partitions].sort((a, b) => a - b)) {
    const want = new Map(input.filter((r) => r.partition === p).map((r) => [r.offset, r.value?.toString()]));
    const seen = new Set<number>();
    let last = -1;
    for (const r of ordered.filter((x) => x.partition === p).sort((a, b) => a.offset - b.offset)) {
      const seq = Number(r.headers['convoy-seq']);
      if (seen.has(seq)) duplicates++;
      else if (seq < last) outOfOrder++;
      seen.add(seq);
      last = Math.max(last, seq);
      if (want.has(seq) && want.get(seq) !== r.value?.toString()) problems.push(`partition ${p}: ordered seq ${seq} has another value than its input`);
    }
    for (const r of late.filter((x) => x.partition === p)) {
      const seq = Number(r.headers['convoy-seq']);
      if (r.headers['convoy-late'] !== 'true') problems.push(`partition ${p}: late seq ${seq} without convoy-late: true`);
      if (seen.has(seq)) duplicates++;
      seen.add(seq);
      if (want.has(seq) && want.get(seq) !== r.value?.toString()) problems.push(`partition ${p}: late seq ${seq} has another value than its input`);
    }
    for (const offset of want.keys()) if (!seen.has(offset)) missing++;
    for (const seq of seen) if (!want.has(seq)) problems.push(`partition ${p}: unexpected seq ${seq}`);
  }
  if (missing > 0) problems.push(`${missing} missing`);
  if (duplicates > 0) problems.push(`${duplicates} duplicated`);
  if (outOfOrder > 0) problems.push(`${outOfOrder} out of order`);
  return { ok: problems.length === 0, expected: input.length, ordered: ordered.length, late: late.length, missing, duplicates, outOfOrder, problems: problems.slice(0, 20) };
}

/** The environment startConvoy gives a worker, to start more members of the same group. */
export function workerEnvOf(convoy: RunningConvoy, sourcePartitions: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WORKER_INPUT_TOPIC: convoy.topics.substreams,
    WORKER_PROCESSED_TOPIC: convoy.topics.processed,
    WORKER_PROCESSED_PARTITIONS: String(sourcePartitions),
    WORKER_DLQ_TOPIC: convoy.topics.dlq,
    WORKER_GROUP_ID: convoy.groups[1]!,
    ...extra,
  };
}

/** The late topic the merger writes to by default (`<output>.late`). */
export function lateTopicOf(convoy: RunningConvoy): string {
  return `${convoy.topics.ordered}.late`;
}

/** The partitions a service's partition processor owns now, from its last "partitions assigned" log line. */
export function assignedPartitions(proc: ServiceProcess): string[] {
  const lines = proc.logs();
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes('"partitions assigned"')) continue;
    try {
      const parsed = JSON.parse(line) as { partitions?: string[] };
      if (Array.isArray(parsed.partitions)) return parsed.partitions;
    } catch {
      // not JSON
    }
  }
  return [];
}

/** For a failure message: each process's state and its last warnings/errors (JSON log level ≥ 40, or non-JSON lines). */
export function problemLogs(processes: readonly ServiceProcess[], lines = 12): string {
  return processes
    .map((p) => {
      const bad = p.logs().filter((line) => {
        try {
          return (JSON.parse(line) as { level?: number }).level! >= 40;
        } catch {
          return !line.includes('TimeoutNegativeWarning') && !line.includes('Timeout duration') && !line.includes('--trace-warnings');
        }
      });
      return `--- ${p.name} (pid ${p.pid}, ${p.running ? 'running' : 'EXITED'}):\n${bad.slice(-lines).map((l) => l.slice(0, 600)).join('\n')}`;
    })
    .join('\n');
}

export function stats(values: readonly number[]): { min: number; max: number; mean: number } {
  if (values.length === 0) return { min: NaN, max: NaN, mean: NaN };
  return { min: Math.min(...values), max: Math.max(...values), mean: values.reduce((a, b) => a + b, 0) / values.length };
}
