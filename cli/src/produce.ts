import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { createBatchedProducer, waitForTopic } from '@convoy/kafka';
import { EVENT_KINDS, ORDER_AVRO_SCHEMA, OrderGenerator, type EventKind, type Order } from '@convoy/demo-producer/generator';
import { runTraffic } from '@convoy/demo-producer/traffic';
import { openContext, type ConnectionFlags } from './connection.ts';

export interface ProduceFlags extends ConnectionFlags {
  topic: string;
  rate: number;
  count?: number;
  customers: number;
  format: 'json' | 'avro';
  outOfOrderRatio: number;
  maxDisorder: number;
  lateRatio: number;
  lateBy: number;
  malformedRatio: number;
  seed?: number;
  batch: number;
  progress: boolean;
}

/** `convoy produce`: the demo producer's generator at a rate, with a progress bar on stderr. Returns the exit code. */
export async function produceCommand(flags: ProduceFlags): Promise<number> {
  const seed = flags.seed ?? randomInt(0, 2 ** 32 - 1);
  const generator = new OrderGenerator({
    customers: flags.customers,
    outOfOrderRatio: flags.outOfOrderRatio,
    maxDisorderMs: flags.maxDisorder,
    lateRatio: flags.lateRatio,
    lateByMs: flags.lateBy,
    malformedRatio: flags.malformedRatio,
    seed,
  });
  const ctx = openContext(flags, 'convoy-cli-produce');
  await waitForTopic(ctx.clients, flags.topic, { waitMs: 5_000, code: 'CLI_TOPIC_MISSING', hint: `create it, e.g. \`convoy topics ensure ${flags.topic}:3\`` });
  const producer = await createBatchedProducer(ctx.clients);
  let encode = (order: Order): Buffer | Promise<Buffer> => Buffer.from(JSON.stringify(order), 'utf8');
  if (flags.format === 'avro') {
    const schemaId = await ctx.codec.register(`${flags.topic}-value`, ORDER_AVRO_SCHEMA, 'avro');
    encode = (order) => ctx.codec.encode(schemaId, order);
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = flags.progress
    ? new cliProgress.SingleBar(
        {
          format:
            flags.count === undefined
              ? 'produced {value} events | {rate}/s | {elapsed}s | malformed {malformed} late {late}'
              : '{bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta}s | malformed {malformed} late {late}',
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const counts: Record<EventKind, number> = { ok: 0, out_of_order: 0, late: 0, malformed: 0 };
  const started = Date.now();
  let sent = 0;
  bar?.start(flags.count ?? 0, 0, { rate: '0', elapsed: '0', malformed: 0, late: 0 });
  try {
    sent = await runTraffic(
      { topic: flags.topic, rate: flags.rate, maxBatch: flags.batch, ...(flags.count === undefined ? {} : { count: flags.count }) },
      {
        generator,
        encode,
        send: (records) => producer.send(records),
        now: Date.now,
        sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
        onSent: (events) => {
          for (const e of events) counts[e.kind]++;
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          const seconds = Math.max(0.001, (Date.now() - started) / 1000);
          bar?.update(total, { rate: (total / seconds).toFixed(0), elapsed: seconds.toFixed(1), malformed: counts.malformed, late: counts.late });
        },
      },
      controller.signal,
    );
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await producer.disconnect();
    await ctx.clients.disconnect();
  }
  const seconds = (Date.now() - started) / 1000;
  const kinds = EVENT_KINDS.map((k) => `${k} ${counts[k]}`).join(', ');
  process.stdout.write(`produced ${sent} events (${kinds}) to ${flags.topic} in ${seconds.toFixed(1)} s (${(sent / Math.max(seconds, 0.001)).toFixed(0)}/s), seed ${seed}\n`);
  return 0;
}
