/**
 * The end-to-end verdict over a sequential convoy: given what was read from its input, ordered
 * output, dead-letter and late topics, does every source partition come out in its original order,
 * complete, and without duplicates? Pure: no Kafka, no clock. Records are identified the way the
 * wire contract identifies them: `convoy-source` = `<input topic>/<partition>` and `convoy-seq` =
 * the input offset (docs/wire-contract.md).
 */

/** Record headers as UTF-8 text. */
export type TextHeaders = Readonly<Record<string, string | undefined>>;

/** One record read from the input topic. */
export interface InputPosition {
  readonly partition: number;
  readonly offset: number;
}

/** One record read from the ordered output (or the late / dead-letter topic). */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly headers: TextHeaders;
}

/** Where an output, late or dead-lettered record came from. */
export interface Origin {
  /** `<input topic>/<partition>` */
  readonly source: string;
  readonly seq: number;
}

export interface VerdictInput {
  readonly inputTopic: string;
  readonly input: readonly InputPosition[];
  /** The ordered output, any order of arrival: each output partition is judged in offset order. */
  readonly output: readonly ReadRecord[];
  readonly deadLetters?: readonly ReadRecord[];
  readonly late?: readonly ReadRecord[];
  /** Events absent from every topic were filtered by a worker: not a failure (order and duplicates still are). */
  readonly allowFiltered?: boolean;
}

/** The verdict of one source partition. */
export interface PartitionVerdict {
  readonly source: string;
  readonly partition: number;
  /** Input records read. */
  readonly input: number;
  /** Output records of this source, duplicates included. */
  readonly output: number;
  /** Input records found in the dead-letter topic. */
  readonly deadLettered: number;
  /** Input records found in the late topic (and not in the output). */
  readonly late: number;
  /** Input records found nowhere (counted as filtered under `allowFiltered`). */
  readonly missing: number;
  /** Output (or late) records whose seq had already been seen for this source. */
  readonly duplicates: number;
  /** Output records whose seq is below one released before it. */
  readonly outOfOrder: number;
  /** Output records whose seq is no input offset that was read. */
  readonly unexpected: number;
  readonly ok: boolean;
}

export interface Verdict {
  readonly ok: boolean;
  readonly partitions: readonly PartitionVerdict[];
  readonly totals: Omit<PartitionVerdict, 'source' | 'partition' | 'ok'>;
  /** Output records without a readable `convoy-source` / `convoy-seq`, or from another input topic. */
  readonly unattributed: number;
  /** Up to `MAX_EXAMPLES` concrete findings, e.g. `convoy.input/2: seq 17 after 21 (output offset 9)`. */
  readonly examples: readonly string[];
  readonly allowFiltered: boolean;
}

export const MAX_EXAMPLES = 10;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function nonNegative(text: string | undefined): number | undefined {
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The origin a Convoy stage stamped on a record (`convoy-source`, `convoy-seq`), if both are readable. */
export function stampedOrigin(headers: TextHeaders): Origin | undefined {
  const source = headers['convoy-source'];
  const seq = nonNegative(headers['convoy-seq']);
  if (source === undefined || seq === undefined) return undefined;
  const slash = source.lastIndexOf('/');
  if (slash <= 0 || nonNegative(source.slice(slash + 1)) === undefined) return undefined;
  return { source, seq };
}

/**
 * Which input record a dead letter stands for. A dead letter of the input topic itself (the
 * splitter's) is identified by its Kafka Connect origin headers: its `convoy-*` headers are the
 * input's own and never trusted. A later stage's dead letter (worker, merger) carries the
 * envelope the splitter stamped.
 */
export function deadLetterOrigin(headers: TextHeaders, inputTopic: string): Origin | undefined {
  if (headers['__connect.errors.topic'] === inputTopic) {
    const partition = nonNegative(headers['__connect.errors.partition']);
    const offset = nonNegative(headers['__connect.errors.offset']);
    if (partition !== undefined && offset !== undefined) return { source: `${inputTopic}/${partition}`, seq: offset };
    return undefined;
  }
  return stampedOrigin(headers);
}

function byPosition(a: ReadRecord, b: ReadRecord): number {
  return a.partition - b.partition || a.offset - b.offset;
}

/** Computes the verdict. Deterministic: the same records in any arrival order give the same verdict. */
export function computeVerdict(v: VerdictInput): Verdict {
  const allowFiltered = v.allowFiltered ?? false;
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(text);
  };
  const prefix = `${v.inputTopic}/`;
  const partitionOf = (source: string) => Number(source.slice(prefix.length));

  const inputBySource = new Map<string, Set<number>>();
  for (const r of v.input) {
    const source = `${prefix}${r.partition}`;
    let offsets = inputBySource.get(source);
    if (offsets === undefined) inputBySource.set(source, (offsets = new Set()));
    offsets.add(r.offset);
  }

  const collect = (records: readonly ReadRecord[] | undefined, origin: (h: TextHeaders) => Origin | undefined) => {
    const bySource = new Map<string, { seq: number; record: ReadRecord }[]>();
    let unattributed = 0;
    for (const record of [...(records ?? [])].sort(byPosition)) {
      const o = origin(record.headers);
      if (o === undefined || !o.source.startsWith(prefix)) {
        unattributed++;
        continue;
      }
      let list = bySource.get(o.source);
      if (list === undefined) bySource.set(o.source, (list = []));
      list.push({ seq: o.seq, record });
    }
    return { bySource, unattributed };
  };
  const output = collect(v.output, stampedOrigin);
  const late = collect(v.late, stampedOrigin);
  const dead = collect(v.deadLetters, (h) => deadLetterOrigin(h, v.inputTopic));
  if (output.unattributed > 0) note(`${output.unattributed} output record(s) without a readable convoy-source/convoy-seq of ${v.inputTopic}`);

  const sources = new Set([...inputBySource.keys(), ...output.bySource.keys(), ...late.bySource.keys()]);
  const partitions: PartitionVerdict[] = [];
  for (const source of [...sources].sort((a, b) => partitionOf(a) - partitionOf(b))) {
    const wanted = inputBySource.get(source) ?? new Set<number>();
    const released = new Set<number>();
    let duplicates = 0;
    let outOfOrder = 0;
    let unexpected = 0;
    let highest = -1;
    // One source's records normally sit in one output partition; if they are spread over several,
    // each partition's sequence is judged on its own and duplicates across them still count.
    let lastPartition = -1;
    const outs = output.bySource.get(source) ?? [];
    for (const { seq, record } of outs) {
      if (record.partition !== lastPartition) {
        lastPartition = record.partition;
        highest = -1;
      }
      if (released.has(seq)) {
        duplicates++;
        note(`${source}: seq ${seq} released twice (output ${record.partition}@${record.offset})`);
      } else if (seq < highest) {
        outOfOrder++;
        note(`${source}: seq ${seq} after ${highest} (output ${record.partition}@${record.offset})`);
      }
      if (!wanted.has(seq) && !released.has(seq)) {
        unexpected++;
        note(`${source}: seq ${seq} is no input offset that was read (output ${record.partition}@${record.offset})`);
      }
      released.add(seq);
      highest = Math.max(highest, seq);
    }
    let lateCount = 0;
    for (const { seq, record } of late.bySource.get(source) ?? []) {
      if (released.has(seq)) {
        duplicates++;
        note(`${source}: seq ${seq} both released and routed late (late ${record.partition}@${record.offset})`);
        continue;
      }
      released.add(seq);
      if (wanted.has(seq)) lateCount++;
    }
    const deadSeqs = new Set((dead.bySource.get(source) ?? []).map((d) => d.seq));
    let deadLettered = 0;
    let missing = 0;
    for (const offset of [...wanted].sort((a, b) => a - b)) {
      if (released.has(offset)) continue;
      if (deadSeqs.has(offset)) deadLettered++;
      else {
        missing++;
        if (!allowFiltered) note(`${source}: seq ${offset} is in no output, late or dead-letter topic`);
      }
    }
    const ok = duplicates === 0 && outOfOrder === 0 && unexpected === 0 && (allowFiltered || missing === 0);
    partitions.push({
      source,
      partition: partitionOf(source),
      input: wanted.size,
      output: outs.length,
      deadLettered,
      late: lateCount,
      missing,
      duplicates,
      outOfOrder,
      unexpected,
      ok,
    });
  }
  const sum = (key: keyof Verdict['totals']) => partitions.reduce((n, p) => n + p[key], 0);
  const totals = {
    input: sum('input'),
    output: sum('output'),
    deadLettered: sum('deadLettered'),
    late: sum('late'),
    missing: sum('missing'),
    duplicates: sum('duplicates'),
    outOfOrder: sum('outOfOrder'),
    unexpected: sum('unexpected'),
  };
  return { ok: output.unattributed === 0 && partitions.every((p) => p.ok), partitions, totals, unattributed: output.unattributed, examples, allowFiltered };
}

/**
 * Whether waiting longer cannot change the verdict: a pass, or a duplicate, an out-of-order or an
 * unattributed release, which is on the log for good. Missing events may still arrive, and an
 * unexpected seq may be an input record not read yet, so those verdicts are not final.
 */
export function isFinal(verdict: Verdict): boolean {
  return verdict.ok || verdict.unattributed > 0 || verdict.partitions.some((p) => p.duplicates > 0 || p.outOfOrder > 0);
}
