import { formatTable } from '@convoy/verdict';
import { parsePrometheusText, sumOf, type Exposition } from './prometheus.ts';

export interface Target {
  readonly name: string;
  /** Base URL; /metrics and /readyz are appended. */
  readonly url: string;
}

/** The local fleet (scripts/fleet.ts): splitter :9500, merger :9509, workers :9510+. */
export const FLEET_TARGETS: readonly Target[] = [
  { name: 'splitter', url: 'http://127.0.0.1:9500' },
  { name: 'merger', url: 'http://127.0.0.1:9509' },
  ...[0, 1, 2, 3].map((i) => ({ name: `worker-${i}`, url: `http://127.0.0.1:${9510 + i}` })),
];

/** `name=url,name=url`; a URL without a scheme gets http://. Throws naming the bad entry. */
export function parseTargets(text: string): Target[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const eq = entry.indexOf('=');
      if (eq <= 0 || eq === entry.length - 1) throw new Error(`status target ${JSON.stringify(entry)} is not name=url`);
      let url = entry.slice(eq + 1).replace(/\/+$/, '').replace(/\/metrics$/, '');
      if (!/^https?:\/\//.test(url)) url = `http://${url}`;
      return { name: entry.slice(0, eq), url };
    });
}

/** --targets replaces everything; otherwise the fleet defaults plus CONVOY_STATUS_TARGETS (same name: the env wins). */
export function resolveTargets(flag: string | undefined, env: string | undefined): Target[] {
  if (flag !== undefined) return parseTargets(flag);
  const extra = env === undefined ? [] : parseTargets(env);
  const names = new Set(extra.map((t) => t.name));
  return [...FLEET_TARGETS.filter((t) => !names.has(t.name)), ...extra];
}

export interface StatusRow {
  readonly name: string;
  readonly up: boolean;
  readonly ready: boolean | undefined;
  readonly service?: string;
  readonly eventsIn?: number;
  readonly eventsOut?: number;
  readonly buffer?: number;
  readonly gapsByMarker?: number;
  readonly gapsByTimeout?: number;
  readonly late?: number;
  readonly dlq?: number;
  readonly lag?: number;
}

/**
 * The first of `candidates` (suffix, label match) that applies to the service: a series it has
 * whose samples carry the matched label names (the sum of the matching ones, 0 if none match).
 * A counter declared without any sample is 0 (prom-client writes no sample for a label set
 * never incremented); a gauge without one is unknown.
 */
function first(e: Exposition, prefix: string, candidates: readonly (readonly [string, Record<string, string>?])[]): number | undefined {
  let declaredCounter = false;
  for (const [suffix, match = {}] of candidates) {
    const name = `${prefix}${suffix}`;
    const samples = e.samples.filter((s) => s.name === name);
    if (samples.length === 0) {
      if (e.types.get(name) === 'counter') declaredCounter = true;
      continue;
    }
    if (!samples.every((s) => Object.keys(match).every((k) => k in s.labels))) continue;
    return sumOf(e, name, match) ?? 0;
  }
  return declaredCounter ? 0 : undefined;
}

/**
 * One service's row from its /metrics. The service is named by the `service` label every Convoy
 * metric carries, and its series by `convoy_<service>_<name>`; each column takes the first series
 * that service has (e.g. out: events_out_total, results_total for the aggregator).
 */
export function summarize(name: string, e: Exposition, ready: boolean | undefined): StatusRow {
  const service = e.samples.find((s) => s.name.startsWith('convoy_') && s.labels['service'] !== undefined)?.labels['service'];
  if (service === undefined) return { name, up: true, ready };
  const p = `convoy_${service.replace(/-/g, '_')}_`;
  const row: Record<string, unknown> = { name, up: true, ready, service };
  const set = (key: keyof StatusRow, value: number | undefined) => {
    if (value !== undefined) row[key] = value;
  };
  set('eventsIn', first(e, p, [['events_in_total', { kind: 'data' }], ['events_in_total'], ['watermarks_in_total']]));
  set('eventsOut', first(e, p, [['events_out_total'], ['results_total'], ['events_forwarded_total'], ['events_total'], ['watermarks_written_total']]));
  set('buffer', first(e, p, [['buffer_events'], ['open_windows'], ['tracked_requests']]));
  set('gapsByMarker', first(e, p, [['gaps_resolved_total', { by: 'marker' }]]));
  set('gapsByTimeout', first(e, p, [['gaps_resolved_total', { by: 'timeout' }]]));
  set('late', first(e, p, [['late_total'], ['late_events_total'], ['events_total', { kind: 'late' }]]));
  set('dlq', first(e, p, [['dead_lettered_total'], ['dead_letters_total'], ['events_dead_lettered_total'], ['events_total', { kind: 'malformed' }]]));
  set('lag', first(e, p, [['kafka_consumer_lag']]));
  return row as unknown as StatusRow;
}

export function formatStatus(rows: readonly StatusRow[]): string {
  const n = (v: number | undefined) => (v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(1));
  return formatTable(
    ['service', 'up', 'ready', 'in', 'out', 'buffer', 'gaps m/t', 'late', 'dlq', 'lag'],
    rows.map((r) => [
      r.name,
      r.up ? 'up' : 'DOWN',
      r.ready === undefined ? '-' : r.ready ? 'yes' : 'NO',
      n(r.eventsIn),
      n(r.eventsOut),
      n(r.buffer),
      r.gapsByMarker === undefined && r.gapsByTimeout === undefined ? '-' : `${n(r.gapsByMarker)}/${n(r.gapsByTimeout)}`,
      n(r.late),
      n(r.dlq),
      n(r.lag),
    ]),
  );
}

/** Scrapes one target: /metrics and /readyz, each with a 2 s limit. */
export async function scrape(target: Target, fetchImpl: typeof fetch = fetch): Promise<StatusRow> {
  let text: string;
  try {
    const res = await fetchImpl(`${target.url}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return { name: target.name, up: false, ready: undefined };
    text = await res.text();
  } catch {
    return { name: target.name, up: false, ready: undefined };
  }
  let ready: boolean | undefined;
  try {
    const res = await fetchImpl(`${target.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    ready = res.status === 200;
    await res.body?.cancel();
  } catch {
    ready = undefined;
  }
  return summarize(target.name, parsePrometheusText(text), ready);
}

/** `convoy status`: prints the table; exit 1 when no target answered. */
export async function statusCommand(flags: { targets?: string }): Promise<number> {
  const targets = resolveTargets(flags.targets, process.env['CONVOY_STATUS_TARGETS']);
  const rows = await Promise.all(targets.map((t) => scrape(t)));
  process.stdout.write(`${formatStatus(rows)}\n`);
  return rows.some((r) => r.up) ? 0 : 1;
}
