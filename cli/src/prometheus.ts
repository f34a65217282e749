/**
 * A parser for the Prometheus text exposition format (0.0.4), the subset prom-client writes and
 * `convoy status` reads: `# HELP` / `# TYPE` lines, samples `name{label="value",...} value
 * [timestamp]`, label values with the escapes \\, \" and \n, and the values NaN, +Inf, -Inf (any case).
 * Malformed lines are skipped and counted, never thrown: one bad line must not hide a service.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly Sample[];
  /** Metric family name → type (counter, gauge, histogram, summary, untyped). */
  readonly types: ReadonlyMap<string, string>;
  readonly skippedLines: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | undefined {
  // Case-insensitive, as Prometheus reads them (prom-client writes `Nan`).
  const word = text.toLowerCase();
  if (word === 'nan') return Number.NaN;
  if (word === '+inf' || word === 'inf') return Number.POSITIVE_INFINITY;
  if (word === '-inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Parses `{a="x",b="y"}` at the start of `text`; returns the labels and the rest, or undefined. */
function parseLabels(text: string): { labels: Record<string, string>; rest: string } | undefined {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (name === undefined) return undefined;
    i += name.length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=') return undefined;
    i++;
    while (text[i] === ' ') i++;
    if (text[i] !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else return undefined;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++; // closing quote
    labels[name] = value;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') return undefined;
  }
}

export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  let skippedLines = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type !== null) types.set(type[1]!, type[2]!);
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) {
      skippedLines++;
      continue;
    }
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const parsed = parseLabels(rest);
      if (parsed === undefined) {
        skippedLines++;
        continue;
      }
      labels = parsed.labels;
      rest = parsed.rest;
    }
    const fields = rest.trim().split(/\s+/);
    const value = fields[0] === undefined ? undefined : parseValue(fields[0]);
    if (value === undefined || fields.length > 2) {
      skippedLines++;
      continue;
    }
    samples.push({ name, labels, value });
  }
  return { samples, types, skippedLines };
}

/** Sum of the samples named `name` whose labels include every pair in `match`; undefined when none exist. */
export function sumOf(exposition: Exposition, name: string, match: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const s of exposition.samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    sum = (sum ?? 0) + s.value;
  }
  return sum;
}
