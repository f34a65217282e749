import type { Verdict } from './verdict.ts';

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * The verdict as a compact table, one row per source partition plus a total, then one line
 * `PASS ...` or `FAIL ...`, then the first concrete findings.
 */
export function formatVerdict(verdict: Verdict): string {
  const missingHeader = verdict.allowFiltered ? 'filtered' : 'missing';
  const header = ['source', 'input', 'output', 'dlq', 'late', missingHeader, 'dup', 'order', 'unexp', 'verdict'];
  const row = (name: string, p: Verdict['totals'], ok: boolean) => [
    name,
    String(p.input),
    String(p.output),
    String(p.deadLettered),
    String(p.late),
    String(p.missing),
    String(p.duplicates),
    String(p.outOfOrder),
    String(p.unexpected),
    ok ? 'ok' : 'FAIL',
  ];
  const rows = verdict.partitions.map((p) => row(p.source, p, p.ok));
  rows.push(row('total', verdict.totals, verdict.ok));
  const t = verdict.totals;
  const summary = verdict.ok
    ? `PASS: ${t.output} in order, ${t.deadLettered} dead-lettered, ${t.late} late${verdict.allowFiltered ? `, ${t.missing} filtered` : ''}, no duplicates`
    : `FAIL: ${[
        !verdict.allowFiltered && t.missing > 0 ? `${t.missing} missing` : '',
        t.duplicates > 0 ? `${t.duplicates} duplicated` : '',
        t.outOfOrder > 0 ? `${t.outOfOrder} out of order` : '',
        t.unexpected > 0 ? `${t.unexpected} unexpected` : '',
        verdict.unattributed > 0 ? `${verdict.unattributed} unattributed` : '',
      ]
        .filter((s) => s !== '')
        .join(', ')}`;
  const lines = [formatTable(header, rows), summary];
  for (const e of verdict.examples) lines.push(`  ${e}`);
  return lines.join('\n');
}
