import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionForKey, type ConvoyRecord, type OutgoingRecord } from '@convoy/kafka';
import { latestState, parseState, type RoutingState } from './routing-state.ts';
import { createCounters, SourcePartitionSplitter, SplitterHandler, type SplitterOptions } from './splitter-handler.ts';
import { splitterOptions } from './test-fixtures.ts';

const SOURCE = { topic: 'in', partition: 1 };

const options = (overrides: Partial<SplitterOptions> = {}): SplitterOptions => splitterOptions({ stateTopic: 'state', ...overrides });

const rec = (offset: number, key: string): ConvoyRecord => ({
  topic: 'in',
  partition: 1,
  offset,
  timestamp: 1_000 + offset,
  key: Buffer.from(key),
  value: Buffer.from('{}'),
  headers: {},
});

/** Each record as one line: `data p=.. e=.. seq=..`, `marker p=.. e=.. n=.. upTo=.. [start=..]`, `state p=.. <json>`. */
function describe(record: OutgoingRecord): string {
  const h = (name: string) => record.headers?.[name]?.toString('utf8');
  if (record.topic === 'state') return `state p=${record.partition} key=${String(record.key)} ${String(record.value)}`;
  if (h('convoy-kind') === 'progress') {
    const start = h('convoy-epoch-start');
    return `marker p=${record.partition} e=${h('convoy-epoch')} n=${h('convoy-substreams')} upTo=${h('convoy-seq')}${start === undefined ? '' : ` start=${start}`}`;
  }
  return `data p=${record.partition} e=${h('convoy-epoch')} seq=${h('convoy-seq')} prev=${h('convoy-prev')}`;
}

class Out {
  readonly records: OutgoingRecord[] = [];
  send(record: OutgoingRecord): void {
    this.records.push(record);
  }
  take(): string[] {
    const lines = this.records.map(describe);
    this.records.length = 0;
    return lines;
  }
}

const KEYS = ['a', 'b', 'c', 'd'];
const p4 = (key: string) => partitionForKey(Buffer.from(key), 4);
const p2 = (key: string) => partitionForKey(Buffer.from(key), 2);
const EPOCH0_N2: RoutingState = { current: { epoch: 0, substreams: 2 } };
const markers = (n: number, epoch: number, upTo: number, start?: number) =>
  Array.from({ length: n }, (_, p) => `marker p=${p} e=${epoch} n=${n} upTo=${upTo}${start === undefined ? '' : ` start=${start}`}`);

test('switch 2 → 4 at the committed offset: closing round of epoch 0, state record, then epoch 1 data and markers with epochStart', async () => {
  const counters = createCounters();
  const splitter = new SourcePartitionSplitter(options({ substreams: 4 }), SOURCE, 10, counters, EPOCH0_N2);
  const out = new Out();
  await splitter.onRecords([rec(10, 'a'), rec(11, 'b')], out, 5_000);
  assert.deepEqual(out.take(), [
    ...markers(2, 0, 9),
    'state p=1 key=in/1 {"version":1,"current":{"epoch":1,"start":10,"substreams":4},"previous":{"epoch":0,"start":null,"substreams":2}}',
    `data p=${p4('a')} e=1 seq=10 prev=9`,
    `data p=${p4('b')} e=1 seq=11 prev=10`,
    // The new epoch is announced at once (its markers carry where it starts).
    ...markers(4, 1, 11, 10),
  ]);
  assert.deepEqual(splitter.routing, { current: { epoch: 1, start: 10, substreams: 4 }, previous: { epoch: 0, substreams: 2 } });
  assert.equal(counters.epochSwitches, 1);
  assert.equal(counters.closingMarkersWritten, 2);
  assert.equal(counters.stateRecordsWritten, 1);
  // The next unit does not switch again.
  await splitter.onRecords([rec(12, 'c')], out, 5_050);
  assert.deepEqual(out.take(), [`data p=${p4('c')} e=1 seq=12 prev=11`]);
});

test('restart arithmetic: the state read back gives the same epoch and start, no new switch; the closing round is re-announced once', async () => {
  const first = new Out();
  await new SourcePartitionSplitter(options(), SOURCE, 10, createCounters(), EPOCH0_N2).onRecords([rec(10, 'a'), rec(11, 'b')], first, 5_000);
  const stored = latestState(first.records.filter((r) => r.topic === 'state').map((r) => ({ key: Buffer.from(String(r.key)), value: Buffer.from(String(r.value)) })), SOURCE);
  assert.deepEqual(stored, { current: { epoch: 1, start: 10, substreams: 4 }, previous: { epoch: 0, substreams: 2 } });

  const counters = createCounters();
  const restarted = new SourcePartitionSplitter(options(), SOURCE, 12, counters, stored);
  const out = new Out();
  restarted.onTick(out, 9_000);
  assert.deepEqual(out.take(), [...markers(2, 0, 9), ...markers(4, 1, 11, 10)]);
  await restarted.onRecords(KEYS.map((key, i) => rec(12 + i, key)), out, 9_010);
  assert.deepEqual(out.take(), KEYS.map((key, i) => `data p=${p4(key)} e=1 seq=${12 + i} prev=${11 + i}`));
  restarted.onTick(out, 9_300);
  assert.deepEqual(out.take(), markers(4, 1, 15, 10));
  assert.equal(counters.epochSwitches, 0);
  assert.equal(counters.stateRecordsWritten, 0);
});

test('scale back 4 → 2: closing round of epoch 1 (with its start) into its 4 sub-streams; epoch 2 starts at the committed offset', async () => {
  const stored: RoutingState = { current: { epoch: 1, start: 10, substreams: 4 }, previous: { epoch: 0, substreams: 2 } };
  const splitter = new SourcePartitionSplitter(options({ substreams: 2 }), SOURCE, 20, createCounters(), stored);
  const out = new Out();
  splitter.onTick(out, 1_000);
  assert.deepEqual(out.take(), [
    ...markers(4, 1, 19, 10),
    'state p=1 key=in/1 {"version":1,"current":{"epoch":2,"start":20,"substreams":2},"previous":{"epoch":1,"start":10,"substreams":4}}',
    ...markers(2, 2, 19, 20),
  ]);
  await splitter.onRecords([rec(20, 'a'), rec(21, 'd')], out, 1_010);
  assert.deepEqual(out.take(), [`data p=${p2('a')} e=2 seq=20 prev=19`, `data p=${p2('d')} e=2 seq=21 prev=20`]);
});

test('a crash before the commit of the switching unit leaves the old state: the next incarnation writes exactly the same records', async () => {
  const run = async () => {
    const out = new Out();
    const splitter = new SourcePartitionSplitter(options(), SOURCE, 10, createCounters(), EPOCH0_N2);
    await splitter.onRecords([rec(10, 'a'), rec(11, 'b'), rec(12, 'c')], out, 5_000);
    return out.take();
  };
  assert.deepEqual(await run(), await run());
});

test('without stored state the configured epoch is stored at the first unit, governing from the beginning', async () => {
  const splitter = new SourcePartitionSplitter(options({ substreams: 2, epoch: 3 }), SOURCE, 7, createCounters(), undefined);
  const out = new Out();
  await splitter.onRecords([rec(7, 'a')], out, 100);
  assert.deepEqual(out.take(), [
    'state p=1 key=in/1 {"version":1,"current":{"epoch":3,"start":null,"substreams":2},"previous":null}',
    `data p=${p2('a')} e=3 seq=7 prev=6`,
    ...markers(2, 3, 7),
  ]);
  await splitter.onRecords([rec(8, 'b')], out, 150);
  assert.deepEqual(out.take(), [`data p=${p2('b')} e=3 seq=8 prev=7`]);
});

test('an epoch owns at least one seq: a second change before any record of the current epoch waits for one record', async () => {
  const stored: RoutingState = { current: { epoch: 1, start: 10, substreams: 4 }, previous: { epoch: 0, substreams: 2 } };
  const splitter = new SourcePartitionSplitter(options({ substreams: 2 }), SOURCE, 10, createCounters(), stored);
  const out = new Out();
  splitter.onTick(out, 1_000);
  assert.deepEqual(out.take(), markers(4, 1, 9, 10), 'no switch yet: epoch 1 owns nothing');
  await splitter.onRecords([rec(10, 'a')], out, 1_010);
  assert.deepEqual(out.take(), [`data p=${p4('a')} e=1 seq=10 prev=9`]);
  splitter.onTick(out, 1_250);
  assert.deepEqual(out.take(), [
    ...markers(4, 1, 10, 10),
    'state p=1 key=in/1 {"version":1,"current":{"epoch":2,"start":11,"substreams":2},"previous":{"epoch":1,"start":10,"substreams":4}}',
    ...markers(2, 2, 10, 11),
  ]);
});

test('no committed offset: the switch happens at the first record received', async () => {
  const splitter = new SourcePartitionSplitter(options(), SOURCE, undefined, createCounters(), EPOCH0_N2);
  const out = new Out();
  splitter.onTick(out, 1_000);
  assert.deepEqual(out.take(), []);
  await splitter.onRecords([rec(5, 'b')], out, 1_010);
  assert.deepEqual(out.take(), [
    ...markers(2, 0, 4),
    'state p=1 key=in/1 {"version":1,"current":{"epoch":1,"start":5,"substreams":4},"previous":{"epoch":0,"start":null,"substreams":2}}',
    `data p=${p4('b')} e=1 seq=5 prev=4`,
    ...markers(4, 1, 5, 5),
  ]);
});

test('the handler reads the stored state on assignment; unset stateTopic keeps the configured epoch and count, with no state record', async () => {
  const lookups: string[] = [];
  const handler = new SplitterHandler(options(), () => 10, createCounters(), (tp) => {
    lookups.push(`${tp.topic}/${tp.partition}`);
    return EPOCH0_N2;
  });
  await handler.onAssigned(SOURCE);
  assert.deepEqual(lookups, ['in/1']);
  assert.equal(handler.partition(SOURCE)?.routing.current.substreams, 2);
  const out = Object.assign(new Out(), { commitUpTo() {}, pause() {}, resume() {} });
  await handler.onRecords(SOURCE, [rec(10, 'a')], out, 1);
  assert.equal(handler.partition(SOURCE)?.routing.current.epoch, 1);
  await assert.rejects(async () => handler.onRecords({ topic: 'in', partition: 9 }, [rec(0, 'a')], out, 1), { code: 'SPLITTER_NOT_ASSIGNED' });

  const legacy = new SourcePartitionSplitter(options({ stateTopic: undefined, substreams: 2 }), SOURCE, 3, createCounters(), EPOCH0_N2);
  const legacyOut = new Out();
  await legacy.onRecords([rec(3, 'a')], legacyOut, 1);
  assert.deepEqual(legacyOut.take(), [`data p=${p2('a')} e=0 seq=3 prev=2`, ...markers(2, 0, 3)]);
});

test('state records: invalid or foreign values are ignored; the latest valid one of the source wins', () => {
  const r = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value) });
  const good = '{"version":1,"current":{"epoch":1,"start":10,"substreams":4},"previous":{"epoch":0,"start":null,"substreams":2}}';
  assert.deepEqual(
    latestState([r('in/1', good), r('in/1', 'not json'), r('in/2', '{"version":1,"current":{"epoch":5,"start":null,"substreams":1},"previous":null}')], SOURCE),
    { current: { epoch: 1, start: 10, substreams: 4 }, previous: { epoch: 0, substreams: 2 } },
  );
  for (const bad of [
    '{"version":2,"current":{"epoch":1,"start":10,"substreams":4},"previous":null}',
    '{"version":1,"current":{"epoch":1,"start":10,"substreams":0},"previous":null}',
    '{"version":1,"current":{"epoch":1,"start":-1,"substreams":2},"previous":null}',
    '{"version":1,"current":{"epoch":1,"start":null,"substreams":2},"previous":{"epoch":0,"start":null,"substreams":2}}',
    '{"version":1,"current":{"epoch":1,"start":5,"substreams":2},"previous":{"epoch":1,"start":null,"substreams":2}}',
  ]) {
    assert.equal(parseState(Buffer.from(bad)), undefined, bad);
  }
  assert.equal(parseState(null), undefined);
  assert.equal(latestState([], SOURCE), undefined);
});
