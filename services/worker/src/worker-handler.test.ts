import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCodec } from '@convoy/codecs';
import { ConvoyError } from '@convoy/errors';
import type { ConvoyRecord, OutgoingRecord, RecordHeaders } from '@convoy/kafka';
import { createLogger } from '@convoy/logging';
import { payloadCodec } from './payload-codec.ts';
import type { Processor } from './processor.ts';
import { backoffDelay, WorkerHandler, type WorkerHandlerOptions } from './worker-handler.ts';

const logger = createLogger({ name: 'worker-test', level: 'silent' });
const codec = payloadCodec(createCodec());

function headers(text: Record<string, string>): RecordHeaders {
  return Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.from(v)]));
}

function text(h: RecordHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = k.startsWith('kafka_dlt-original-') && k !== 'kafka_dlt-original-topic' ? `<bin ${v.length}>` : v.toString();
  return out;
}

/** A data record of source `convoy.input/<source>` in sub-stream 2. */
function data(offset: number, seq: number, prev: number | undefined, source: number, value: unknown = { n: seq }): ConvoyRecord {
  const h: Record<string, string> = { 'convoy-kind': 'data', 'convoy-seq': String(seq), 'convoy-source': `convoy.input/${source}`, 'convoy-event-time': String(1000 + seq), 'convoy-substream': '2', 'convoy-epoch': '0', 'x-user': 'u' };
  if (prev !== undefined) h['convoy-prev'] = String(prev);
  return { topic: 'convoy.substreams', partition: 2, offset, timestamp: 5000 + offset, key: Buffer.from(`c${seq % 3}`), value: Buffer.from(JSON.stringify(value)), headers: headers(h) };
}

function marker(offset: number, upTo: number, source: number, withSubstream = true): ConvoyRecord {
  const h: Record<string, string> = { 'convoy-kind': 'progress', 'convoy-seq': String(upTo), 'convoy-source': `convoy.input/${source}`, 'convoy-epoch': '0', 'convoy-substreams': '4' };
  if (withSubstream) h['convoy-substream'] = '2';
  return { topic: 'convoy.substreams', partition: 2, offset, timestamp: 5000 + offset, key: null, value: null, headers: headers(h) };
}

function fakeTimers() {
  const state = { clock: 0, sleeps: [] as number[] };
  return {
    state,
    timers: {
      now: () => state.clock,
      sleep: async (ms: number) => {
        state.sleeps.push(ms);
        state.clock += ms;
      },
    },
  };
}

function handler(processor: Processor, overrides: Partial<WorkerHandlerOptions> = {}) {
  const { state, timers } = fakeTimers();
  const h = new WorkerHandler({
    processor,
    codec,
    logger,
    timers,
    processedTopic: 'convoy.processed',
    dlqTopic: 'convoy.dlq',
    processedPartitions: 3,
    emitFillers: false,
    maxAttempts: 3,
    backoff: { initialMs: 100, maxMs: 1000, multiplier: 2 },
    ...overrides,
  });
  return { h, state };
}

const never = new AbortController().signal;
const identity: Processor = (event) => ({ value: event.value });

/** [topic, partition, kind, seq, value] of each output, for compact exact assertions. */
function summary(out: OutgoingRecord[]) {
  return out.map((r) => {
    const h = text(r.headers);
    return [r.topic, r.partition, r.topic === 'convoy.dlq' ? h['convoy-error-code'] : h['convoy-kind'], h['convoy-seq'], r.value === null ? null : r.value.toString()];
  });
}

describe('WorkerHandler', () => {
  it('keeps every envelope header and routes to partition = source partition', async () => {
    const { h } = handler(identity);
    const [out] = await h.handleBatch([data(7, 42, 40, 1)], never);
    assert.deepEqual(out, {
      topic: 'convoy.processed',
      partition: 1,
      key: Buffer.from('c0'),
      value: Buffer.from('{"n":42}'),
      headers: headers({ 'convoy-kind': 'data', 'convoy-seq': '42', 'convoy-source': 'convoy.input/1', 'convoy-event-time': '1042', 'convoy-substream': '2', 'convoy-epoch': '0', 'x-user': 'u', 'convoy-prev': '40' }),
    });
  });

  it('forwards each marker in position, to its source partition, adding convoy-substream', async () => {
    const { h } = handler(identity);
    const out = await h.handleBatch([data(0, 10, undefined, 0), marker(1, 10, 0, false), data(2, 11, 10, 1), marker(3, 11, 1), data(4, 12, 11, 0)], never);
    assert.deepEqual(summary(out), [
      ['convoy.processed', 0, 'data', '10', '{"n":10}'],
      ['convoy.processed', 0, 'progress', '10', null],
      ['convoy.processed', 1, 'data', '11', '{"n":11}'],
      ['convoy.processed', 1, 'progress', '11', null],
      ['convoy.processed', 0, 'data', '12', '{"n":12}'],
    ]);
    assert.equal(text(out[1]?.headers)['convoy-substream'], '2');
    assert.deepEqual(text(out[1]?.headers), { 'convoy-kind': 'progress', 'convoy-seq': '10', 'convoy-source': 'convoy.input/0', 'convoy-epoch': '0', 'convoy-substreams': '4', 'convoy-substream': '2' });
    assert.equal(h.counters.markersForwarded, 2);
  });

  it('markers stay behind slow earlier events even with concurrency', async () => {
    const delays = [30, 1, 10];
    const { h } = handler(
      async (event) => {
        await new Promise((r) => setTimeout(r, delays[event.seq % 3]));
        return { value: `r${event.seq}` };
      },
      { concurrency: 3 },
    );
    const out = await h.handleBatch([data(0, 0, undefined, 0), data(1, 1, 0, 0), marker(2, 1, 0), data(3, 2, 1, 0)], never);
    assert.deepEqual(summary(out), [
      ['convoy.processed', 0, 'data', '0', 'r0'],
      ['convoy.processed', 0, 'data', '1', 'r1'],
      ['convoy.processed', 0, 'progress', '1', null],
      ['convoy.processed', 0, 'data', '2', 'r2'],
    ]);
  });

  it('adapts sync, async, object, string, null, [] and fan-out outputs', async () => {
    const processor: Processor = async (event) => {
      switch (event.seq) {
        case 0: return { value: { sync: true } };
        case 1: return Promise.resolve({ value: 'text', key: 'k1', headers: headers({ 'x-extra': 'e', 'convoy-seq': '999' }) });
        case 2: return null;
        case 3: return [];
        case 4: return [{ value: { a: 1 } }, { value: 'b' }];
        default: return [{ value: null }];
      }
    };
    const { h } = handler(processor);
    const out = await h.handleBatch([0, 1, 2, 3, 4, 5].map((seq) => data(seq, seq, seq === 0 ? undefined : seq - 1, 0)), never);
    assert.deepEqual(summary(out), [
      ['convoy.processed', 0, 'data', '0', '{"sync":true}'],
      ['convoy.processed', 0, 'data', '1', 'text'],
      ['convoy.processed', 0, 'data', '4', '[{"a":1},"b"]'],
      ['convoy.processed', 0, 'data', '5', null],
    ]);
    assert.equal(out[1]?.key, 'k1');
    assert.equal(text(out[1]?.headers)['x-extra'], 'e');
    assert.equal(text(out[1]?.headers)['convoy-seq'], '1', 'a processor cannot rewrite the envelope');
    assert.equal(text(out[2]?.headers)['convoy-parts'], '2');
    assert.equal(text(out[0]?.headers)['convoy-parts'], undefined);
    assert.deepEqual(
      { in: h.counters.eventsIn, out: h.counters.eventsOut, filtered: h.counters.filtered, fanOuts: h.counters.fanOuts },
      { in: 6, out: 4, filtered: 2, fanOuts: 1 },
    );
  });

  it('writes a filler for a filtered event only when emitFillers is on', async () => {
    const drop: Processor = () => null;
    const off = handler(drop);
    assert.deepEqual(await off.h.handleBatch([data(0, 9, 8, 2)], never), []);
    const on = handler(drop, { emitFillers: true });
    const out = await on.h.handleBatch([data(0, 9, 8, 2)], never);
    assert.deepEqual(out, [
      {
        topic: 'convoy.processed',
        partition: 2,
        key: Buffer.from('c0'),
        value: null,
        headers: headers({ 'convoy-seq': '9', 'convoy-prev': '8', 'convoy-source': 'convoy.input/2', 'convoy-event-time': '1009', 'convoy-epoch': '0', 'convoy-kind': 'filler', 'convoy-substream': '2', 'convoy-filler-reason': 'filtered' }),
      },
    ]);
    assert.equal(on.h.counters.fillersWritten, 1);
  });

  it('retries a retriable error with backoff, then dead-letters it with a filler, and goes on', async () => {
    let calls = 0;
    const { h, state } = handler((event) => {
      if (event.seq === 1) {
        calls++;
        throw new ConvoyError('STORE_DOWN', 'store unavailable', { retriable: true });
      }
      return { value: event.value };
    });
    const out = await h.handleBatch([data(0, 1, 0, 0), data(1, 2, 1, 0)], never);
    assert.equal(calls, 3);
    assert.deepEqual(state.sleeps, [100, 200]);
    assert.deepEqual(summary(out), [
      ['convoy.dlq', undefined, 'STORE_DOWN', '1', '{"n":1}'],
      ['convoy.processed', 0, 'filler', '1', null],
      ['convoy.processed', 0, 'data', '2', '{"n":2}'],
    ]);
    const dlq = text(out[0]?.headers);
    assert.equal(dlq['convoy-error-message'], 'store unavailable');
    assert.equal(dlq['convoy-error-stage'], 'worker');
    assert.equal(dlq['convoy-error-retriable'], 'true');
    assert.equal(dlq['convoy-error-attempts'], '3');
    assert.equal(dlq['__connect.errors.offset'], '0');
    assert.equal(dlq['convoy-kind'], 'data', 'original headers are kept');
    assert.equal(text(out[1]?.headers)['convoy-filler-reason'], 'dead-lettered');
    assert.deepEqual({ retries: h.counters.retries, dl: h.counters.deadLettered, out: h.counters.eventsOut }, { retries: 2, dl: 1, out: 1 });
  });

  it('succeeds on a retry without dead-lettering', async () => {
    let calls = 0;
    const { h, state } = handler((event) => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('flaky'), { retriable: true });
      return { value: event.value };
    }, { maxAttempts: 5 });
    const out = await h.handleBatch([data(0, 1, 0, 0)], never);
    assert.deepEqual(summary(out), [['convoy.processed', 0, 'data', '1', '{"n":1}']]);
    assert.deepEqual(state.sleeps, [100, 200]);
  });

  it('dead-letters a non-retriable error at once', async () => {
    const { h, state } = handler(() => {
      throw new ConvoyError('BAD_EVENT', 'no');
    });
    const out = await h.handleBatch([data(0, 1, 0, 0)], never);
    assert.deepEqual(summary(out).map((r) => r[2]), ['BAD_EVENT', 'filler']);
    assert.deepEqual(state.sleeps, []);
    assert.equal(text(out[0]?.headers)['convoy-error-attempts'], '1');
  });

  it('dead-letters a processor that returns garbage', async () => {
    const { h } = handler(() => 42 as never);
    const out = await h.handleBatch([data(0, 1, 0, 0)], never);
    assert.deepEqual(summary(out).map((r) => r[2]), ['TypeError', 'filler']);
  });

  it('times out a hung processor, aborting its signal', async () => {
    let seen: AbortSignal | undefined;
    const { h } = handler((_event, context) => {
      seen = context.signal;
      return new Promise(() => undefined);
    }, { processTimeoutMs: 50, maxAttempts: 2 });
    const out = await h.handleBatch([data(0, 1, 0, 0)], never);
    assert.deepEqual(summary(out).map((r) => r[2]), ['WORKER_PROCESSOR_TIMEOUT', 'filler']);
    assert.equal(seen?.aborted, true);
    assert.equal(h.counters.timeouts, 2);
  });

  it('dead-letters records it cannot address, without a filler', async () => {
    const { h } = handler(identity);
    const plain: ConvoyRecord = { topic: 't', partition: 0, offset: 0, timestamp: 0, key: null, value: Buffer.from('x'), headers: {} };
    const broken: ConvoyRecord = { ...plain, offset: 1, headers: headers({ 'convoy-kind': 'data', 'convoy-seq': 'abc', 'convoy-source': 'convoy.input/0' }) };
    const out = await h.handleBatch([plain, broken, data(2, 5, 4, 7), marker(3, 5, 9)], never);
    assert.deepEqual(summary(out).map((r) => [r[0], r[2]]), [
      ['convoy.dlq', 'WORKER_NOT_A_CONVOY_RECORD'],
      ['convoy.dlq', 'ENVELOPE_MALFORMED'],
      ['convoy.dlq', 'WORKER_SOURCE_PARTITION_OUT_OF_RANGE'],
      ['convoy.dlq', 'WORKER_SOURCE_PARTITION_OUT_OF_RANGE'],
    ]);
    assert.deepEqual({ invalid: h.counters.invalidEnvelopes, dl: h.counters.deadLettered, controlDl: h.counters.controlDeadLettered }, { invalid: 2, dl: 1, controlDl: 1 });
  });

  it('rejects the batch when aborted, writing nothing', async () => {
    const controller = new AbortController();
    const { h } = handler(async () => {
      controller.abort(new Error('shutdown'));
      throw new ConvoyError('X', 'x', { retriable: true });
    });
    await assert.rejects(h.handleBatch([data(0, 1, 0, 0), data(1, 2, 1, 0)], controller.signal), /shutdown/);
  });

  it('onRecords sends the batch outputs in order', async () => {
    const { h } = handler(identity);
    const sent: OutgoingRecord[] = [];
    await h.onRecords({ topic: 'convoy.substreams', partition: 2 }, [data(0, 1, 0, 0), marker(1, 1, 0)], {
      send: (r) => void sent.push(r),
      commitUpTo: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
    });
    assert.deepEqual(summary(sent).map((r) => r[2]), ['data', 'progress']);
  });

  it('backoffDelay doubles up to the cap', () => {
    const options = { initialMs: 100, maxMs: 500, multiplier: 2 };
    assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(a, options)), [100, 200, 400, 500]);
  });

  it('property: every seq leaves exactly once (data or filler) and markers keep their position', async () => {
    const outcome = fc.constantFrom('keep', 'drop', 'retriable', 'fatal', 'marker');
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { maxLength: 30 }), fc.integer({ min: 1, max: 4 }), async (plan, concurrency) => {
        const records: ConvoyRecord[] = [];
        const kinds = new Map<number, string>();
        let seq = 0;
        plan.forEach((what, offset) => {
          if (what === 'marker') records.push(marker(offset, Math.max(0, seq - 1), 0));
          else {
            kinds.set(seq, what);
            records.push(data(offset, seq, seq === 0 ? undefined : seq - 1, 0));
            seq++;
          }
        });
        const { h } = handler(
          async (event) => {
            const what = kinds.get(event.seq);
            await Promise.resolve();
            if (what === 'drop') return null;
            if (what === 'retriable') throw new ConvoyError('R', 'r', { retriable: true });
            if (what === 'fatal') throw new ConvoyError('F', 'f');
            return { value: event.value };
          },
          { emitFillers: true, concurrency },
        );
        const out = await h.handleBatch(records, never);
        const processed = out.filter((r) => r.topic === 'convoy.processed');
        const seqsInOrder = processed.filter((r) => text(r.headers)['convoy-kind'] !== 'progress').map((r) => Number(text(r.headers)['convoy-seq']));
        assert.deepEqual(seqsInOrder, [...kinds.keys()]);
        // A marker's position: exactly the number of seqs before it in the input.
        let before = 0;
        const expectedPositions: number[] = [];
        for (const r of records) {
          if (text(r.headers)['convoy-kind'] === 'progress') expectedPositions.push(before);
          else before++;
        }
        const positions: number[] = [];
        let seen = 0;
        for (const r of processed) {
          if (text(r.headers)['convoy-kind'] === 'progress') positions.push(seen);
          else seen++;
        }
        assert.deepEqual(positions, expectedPositions);
        const c = h.counters;
        assert.equal(c.eventsIn, c.eventsOut + c.filtered + c.deadLettered);
        assert.equal(out.filter((r) => r.topic === 'convoy.dlq').length, [...kinds.values()].filter((k) => k === 'retriable' || k === 'fatal').length);
      }),
      { numRuns: 100 },
    );
  });
});
