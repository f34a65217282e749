import { fetchEndOffsets, type ConvoyRecord, type KafkaClients } from '@convoy/kafka';
import { computeVerdict, deadLetterOrigin, formatVerdict, isFinal, stampedOrigin, type InputPosition, type ReadRecord, type Verdict } from '@convoy/verdict';
import { headerText, openContext, type ConnectionFlags } from './connection.ts';
import { readTopics } from './consume.ts';

export interface VerifyFlags extends ConnectionFlags {
  input: string;
  output: string;
  dlq: string;
  late?: string;
  timeout: number;
  settle: number;
  allowFiltered: boolean;
}

/** The headers `deadLetterOrigin` reads; the rest of a dead letter is not kept. */
const ORIGIN_HEADERS = ['__connect.errors.topic', '__connect.errors.partition', '__connect.errors.offset', 'convoy-source', 'convoy-seq'] as const;

async function endOffsetsOrUndefined(clients: KafkaClients, topic: string): Promise<Map<number, number> | undefined> {
  try {
    const ends = await fetchEndOffsets(clients, topic);
    return ends.size === 0 ? undefined : ends;
  } catch {
    return undefined;
  }
}

/**
 * `convoy verify`: judges everything produced to the input before it started. Reads input, output,
 * DLQ and late topics (read_committed) until the verdict cannot change any more (a pass, or a
 * duplicate / out-of-order release) and nothing new has arrived for --settle, or until --timeout.
 * Prints the verdict table; exit code 0 on pass, 1 on fail, 2 when the input cannot be read.
 */
export async function verifyCommand(flags: VerifyFlags): Promise<number> {
  const ctx = openContext(flags, 'convoy-cli-verify');
  const lateTopic = flags.late ?? `${flags.output}.late`;
  try {
    const bound = await endOffsetsOrUndefined(ctx.clients, flags.input);
    if (bound === undefined) {
      process.stderr.write(`input topic ${flags.input} does not exist\n`);
      return 2;
    }
    if ((await endOffsetsOrUndefined(ctx.clients, flags.output)) === undefined) {
      process.stderr.write(`output topic ${flags.output} does not exist\n`);
      return 2;
    }
    if ([...bound.values()].every((end) => end === 0)) {
      process.stdout.write(`FAIL: ${flags.input} is empty: nothing to verify\n`);
      return 1;
    }
    const optional: string[] = [];
    for (const topic of [flags.dlq, lateTopic]) {
      if ((await endOffsetsOrUndefined(ctx.clients, topic)) === undefined) process.stderr.write(`note: ${topic} does not exist; nothing is counted from it\n`);
      else optional.push(topic);
    }
    const limit = (partition: number) => bound.get(partition) ?? 0;
    const inSource = (origin: { source: string; seq: number } | undefined) => {
      if (origin === undefined || !origin.source.startsWith(`${flags.input}/`)) return false;
      return origin.seq < limit(Number(origin.source.slice(flags.input.length + 1)));
    };
    process.stdout.write(
      `verify ${flags.input} → ${flags.output}  (dlq ${optional.includes(flags.dlq) ? flags.dlq : '-'}, late ${optional.includes(lateTopic) ? lateTopic : '-'}${flags.allowFiltered ? ', filtered allowed' : ''})\n` +
        `input up to offsets ${[...bound].sort((a, b) => a[0] - b[0]).map(([p, o]) => `${p}:${o}`).join(' ')} (records produced later are not judged)\n`,
    );

    const input: InputPosition[] = [];
    const maxInput = new Map<number, number>();
    const output: ReadRecord[] = [];
    const late: ReadRecord[] = [];
    const dead: ReadRecord[] = [];
    const keep = (r: ConvoyRecord, headers: ReadRecord['headers']): ReadRecord => ({ partition: r.partition, offset: r.offset, headers });
    let lastArrival = Date.now();
    let changed = true;
    // The reader is at-least-once: a batch redelivered after a consumer restart must not look
    // like a duplicate release, so each partition is taken past its highest offset read only.
    const readUpTo = new Map<string, number>();
    const onRecords = (records: readonly ConvoyRecord[]) => {
      for (const r of records) {
        const tp = `${r.topic}/${r.partition}`;
        if (r.offset <= (readUpTo.get(tp) ?? -1)) continue;
        readUpTo.set(tp, r.offset);
        if (r.topic === flags.input) {
          if (r.offset >= limit(r.partition)) continue;
          input.push({ partition: r.partition, offset: r.offset });
          maxInput.set(r.partition, Math.max(maxInput.get(r.partition) ?? -1, r.offset));
        } else {
          const headers = headerText(r.headers);
          if (r.topic === flags.dlq) {
            const origin = deadLetterOrigin(headers, flags.input);
            if (!inSource(origin)) continue;
            const slim: Record<string, string> = {};
            for (const name of ORIGIN_HEADERS) if (headers[name] !== undefined) slim[name] = headers[name];
            dead.push(keep(r, slim));
          } else {
            const origin = stampedOrigin(headers);
            // Output without an origin is kept: the verdict counts it as unattributed.
            if (origin !== undefined && origin.source.startsWith(`${flags.input}/`) && !inSource(origin)) continue;
            const slim = { 'convoy-source': headers['convoy-source'], 'convoy-seq': headers['convoy-seq'] };
            (r.topic === flags.output ? output : late).push(keep(r, slim));
          }
        }
        lastArrival = Date.now();
        changed = true;
      }
    };
    const reader = await readTopics(ctx.clients, { topics: [flags.input, flags.output, ...optional], fromBeginning: true, onRecords });
    const started = Date.now();
    let verdict: Verdict | undefined;
    let timedOut = false;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 250));
        // Caught up with the input: every non-empty partition read to its bound (a trailing
        // transaction marker may hold the last offset).
        const caughtUp = [...bound].every(([p, end]) => end === 0 || (maxInput.get(p) ?? -1) + 2 >= end);
        if (caughtUp && Date.now() - lastArrival >= flags.settle && changed) {
          changed = false;
          verdict = computeVerdict({ inputTopic: flags.input, input, output, deadLetters: dead, late, allowFiltered: flags.allowFiltered });
          if (isFinal(verdict)) break;
        }
        if (Date.now() - started >= flags.timeout) {
          timedOut = true;
          verdict = computeVerdict({ inputTopic: flags.input, input, output, deadLetters: dead, late, allowFiltered: flags.allowFiltered });
          break;
        }
      }
    } finally {
      await reader.stop();
    }
    process.stdout.write(`${formatVerdict(verdict)}\n`);
    if (timedOut && !verdict.ok) process.stdout.write(`(timed out after ${(flags.timeout / 1000).toFixed(0)} s; the output had not settled into a pass)\n`);
    if (verdict.totals.input === 0) {
      process.stdout.write('FAIL: no input records were read: nothing was verified\n');
      return 1;
    }
    return verdict.ok ? 0 : 1;
  } finally {
    await ctx.clients.disconnect();
  }
}
