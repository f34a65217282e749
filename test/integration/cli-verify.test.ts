// `convoy produce` and `convoy verify` as processes against the real convoy (splitter → workers →
// merger as processes) on fresh topics: a pass with malformed records dead-lettered, and a fail on
// an output that was written out of order and with a duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startConvoy } from '../harness/convoy.ts';
import { testStack, uniqueName } from '../harness/stack.ts';
import { createTopics, deleteTopics, produce } from '../harness/topics.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function convoyCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/src/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: testStack().brokers.join(',') }, timeout: 240_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

/** The numbers of the verdict table's `total` row, by column. */
function totalRow(stdout: string): Record<string, string> {
  const lines = stdout.split('\n');
  const header = lines.find((l) => l.startsWith('source '))?.trim().split(/\s+/) ?? [];
  const total = lines.find((l) => l.startsWith('total '))?.trim().split(/\s+/) ?? [];
  return Object.fromEntries(header.map((h, i) => [h, total[i] ?? '']));
}

test('convoy produce → convoy → convoy verify passes; malformed records are accounted as dead letters', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: 3,
    workers: 2,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
  });
  const produced = await convoyCli([
    'produce', '--topic', convoy.topics.input, '--count', '1500', '--rate', '0', '--customers', '200',
    '--malformed-ratio', '0.02', '--out-of-order-ratio', '0.2', '--late-ratio', '0.05', '--seed', '11', '--no-progress',
  ]);
  assert.equal(produced.code, 0, produced.stderr);
  // seed 11 fixes the draw: the same 1500 events every run
  assert.match(produced.stdout, /^produced 1500 events \(ok 1115, out_of_order 274, late 87, malformed 24\) to \S+ in [\d.]+ s \(\d+\/s\), seed 11$/m);
  const malformed = 24;

  const verified = await convoyCli([
    'verify', '--input', convoy.topics.input, '--output', convoy.topics.ordered, '--dlq', convoy.topics.dlq, '--timeout', '180s',
  ]);
  t.diagnostic(verified.stdout);
  assert.equal(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
  assert.match(verified.stdout, /^PASS: /m);
  assert.deepEqual(totalRow(verified.stdout), {
    source: 'total',
    input: '1500',
    output: String(1500 - malformed),
    dlq: String(malformed),
    late: '0',
    missing: '0',
    dup: '0',
    order: '0',
    unexp: '0',
    verdict: 'ok',
  });

  // convoy status against the same processes: the merger released exactly what verify counted.
  const targets = convoy.all().map((p) => `${p.name}=127.0.0.1:${p.port}`).join(',');
  const status = await convoyCli(['status', '--targets', targets]);
  t.diagnostic(status.stdout);
  assert.equal(status.code, 0, status.stderr);
  const rows = new Map(status.stdout.trim().split('\n').slice(1).map((l) => [l.split(/\s+/)[0], l.trim().split(/\s+/)]));
  assert.deepEqual(rows.get('merger')?.slice(0, 5), ['merger', 'up', 'yes', String(1500 - malformed), String(1500 - malformed)]);
  assert.deepEqual(rows.get('splitter')?.slice(0, 4), ['splitter', 'up', 'yes', '1500']);
  assert.equal(rows.get('splitter')?.[8], String(malformed)); // dlq column
  const workers = [...rows.values()].filter((r) => r[0]!.startsWith('worker-'));
  assert.equal(workers.reduce((n, r) => n + Number(r[3]), 0), 1500 - malformed); // in
  assert.equal(workers.reduce((n, r) => n + Number(r[4]), 0), 1500 - malformed); // out
});

test('convoy verify fails (exit 1) on an output written out of order and with a duplicate', async (t) => {
  const input = uniqueName('cli-neg.input');
  const output = uniqueName('cli-neg.ordered');
  await createTopics([
    { topic: input, partitions: 1 },
    { topic: output, partitions: 1 },
  ]);
  t.after(() => deleteTopics([input, output]));
  await produce(input, [0, 1, 2].map((i) => ({ key: `customer-${i}`, value: JSON.stringify({ i }) })));
  const data = (seq: number) => ({ key: 'k', value: '{}', headers: { 'convoy-kind': 'data', 'convoy-source': `${input}/0`, 'convoy-seq': String(seq) } });
  await produce(output, [data(0), data(2), data(1), data(2)]);

  const verified = await convoyCli(['verify', '--input', input, '--output', output, '--dlq', uniqueName('absent'), '--timeout', '60s', '--settle', '1s']);
  assert.equal(verified.code, 1, `${verified.stdout}\n${verified.stderr}`);
  assert.match(verified.stdout, /^FAIL: 1 duplicated, 1 out of order$/m);
  assert.match(verified.stdout, new RegExp(`${input}/0: seq 1 after 2 \\(output 0@2\\)`));
  assert.match(verified.stdout, new RegExp(`${input}/0: seq 2 released twice \\(output 0@3\\)`));
  assert.deepEqual(totalRow(verified.stdout), {
    source: 'total', input: '3', output: '4', dlq: '0', late: '0', missing: '0', dup: '1', order: '1', unexp: '0', verdict: 'FAIL',
  });
});

test('workers that filter: verify passes with --allow-filtered (filtered counted), fails without it', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: 3,
    workers: 2,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
    workerEnv: { WORKER_PROCESSOR: 'filter', WORKER_FILTER: '{"dropEveryNth":10}' },
  });
  const produced = await convoyCli(['produce', '--topic', convoy.topics.input, '--count', '900', '--rate', '0', '--malformed-ratio', '0', '--seed', '5', '--no-progress']);
  assert.equal(produced.code, 0, produced.stderr);
  const args = ['verify', '--input', convoy.topics.input, '--output', convoy.topics.ordered, '--dlq', convoy.topics.dlq];
  const allowed = await convoyCli([...args, '--allow-filtered', '--timeout', '180s']);
  assert.equal(allowed.code, 0, `${allowed.stdout}\n${allowed.stderr}`);
  // dropEveryNth drops seq 9, 19, 29, … of each source partition: floor(n / 10) of its n events.
  const rows = allowed.stdout.split('\n').filter((l) => l.startsWith(`${convoy.topics.input}/`)).map((l) => l.trim().split(/\s+/));
  assert.equal(rows.length, 3);
  const filtered = rows.reduce((n, r) => n + Math.floor(Number(r[1]) / 10), 0);
  assert.deepEqual(totalRow(allowed.stdout), {
    source: 'total', input: '900', output: String(900 - filtered), dlq: '0', late: '0', filtered: String(filtered), dup: '0', order: '0', unexp: '0', verdict: 'ok',
  });

  const strict = await convoyCli([...args, '--timeout', '5s']);
  assert.equal(strict.code, 1, strict.stdout);
  assert.match(strict.stdout, new RegExp(`^FAIL: ${filtered} missing$`, 'm'));
});
