import { fetchEndOffsets } from '@convoy/kafka';
import { openContext, type ConnectionFlags } from './connection.ts';
import { readTopics } from './consume.ts';
import { formatRecord, recordJson, showValue } from './tail-format.ts';

export interface TailFlags extends ConnectionFlags {
  from: 'beginning' | 'end';
  max?: number;
  isolation: 'read_committed' | 'read_uncommitted';
  follow: boolean;
  idle: number;
  json: boolean;
}

/**
 * `convoy tail <topic>`: prints records as they are read (per partition in offset order). Stops at
 * --max, or (without --follow) once nothing new has arrived for --idle (10 s more before the
 * first record, while the consumer joins), or on Ctrl-C.
 */
export async function tailCommand(topic: string, flags: TailFlags): Promise<number> {
  const ctx = openContext(flags, 'convoy-cli-tail');
  try {
    await fetchEndOffsets(ctx.clients, topic).then((ends) => {
      if (ends.size === 0) throw new Error(`topic ${topic} does not exist`);
    });
  } catch (error) {
    await ctx.clients.disconnect();
    throw new Error(`topic ${topic} cannot be read: ${(error as Error).message}`);
  }
  let printed = 0;
  let lastArrival: number | undefined;
  const startedAt = Date.now();
  let chain = Promise.resolve();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const reader = await readTopics(ctx.clients, {
    topics: [topic],
    fromBeginning: flags.from === 'beginning',
    isolation: flags.isolation,
    onRecords: (records) => {
      lastArrival = Date.now();
      // Values may need the registry (async): print strictly in arrival order.
      chain = chain.then(async () => {
        for (const record of records) {
          if (flags.max !== undefined && printed >= flags.max) return done();
          const value = await showValue(record.value, ctx.codec);
          process.stdout.write(`${flags.json ? JSON.stringify(recordJson(record, value)) : formatRecord(record, value)}\n`);
          printed++;
        }
        if (flags.max !== undefined && printed >= flags.max) done();
      });
    },
  });
  const onSignal = () => done();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const idleCheck = flags.follow
    ? undefined
    : setInterval(() => {
        // Joining the throwaway group takes seconds: before the first record, allow 10 s more.
        const quietSince = lastArrival ?? startedAt + 10_000;
        if (Date.now() - quietSince >= flags.idle) done();
      }, 100);
  await finished;
  if (idleCheck !== undefined) clearInterval(idleCheck);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  await chain;
  await reader.stop();
  await ctx.clients.disconnect();
  process.stderr.write(`${printed} record(s) from ${topic}\n`);
  return 0;
}
