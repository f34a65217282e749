// The metric names the code registers, read from the source, and a PromQL checker over them.
// A service's names are its `createMetrics({ prefix })` (or `createServiceShell({ name })`) + every `counter/gauge/histogram({ name })`
// in its src, plus @convoy/kafka's partition-processor series when it runs a partition processor.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';

const REGISTERED = /\.(counter|gauge|histogram)(?:<[^>]*>)?\(\s*\{\s*name:\s*'([a-z0-9_]+)'/g;
const PREFIX = /createMetrics\(\s*\{\s*prefix:\s*'([a-z0-9_]+)'/;
/** `createServiceShell({ name })` (@convoy/lifecycle) makes the prefix `convoy_<name, - as _>_`. */
const SHELL_NAME = /createServiceShell\(\s*\{\s*name:\s*'([a-z0-9-]+)'/;
/** Series every scrape has without being registered by our code. */
const BUILT_IN = new Set(['up']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function registered(text: string): { name: string; kind: string }[] {
  return [...text.matchAll(REGISTERED)].map((m) => ({ kind: m[1]!, name: m[2]! }));
}

function seriesOf(full: string, kind: string): string[] {
  return kind === 'histogram' ? [full, `${full}_bucket`, `${full}_sum`, `${full}_count`] : [full];
}

/** Every series name a Convoy service can expose (histograms with their _bucket/_sum/_count). */
export function registeredMetricNames(root: string): Set<string> {
  const processor = registered(readFileSync(join(root, 'libs/kafka/src/processor-metrics.ts'), 'utf8'));
  const names = new Set(BUILT_IN);
  for (const service of readdirSync(join(root, 'services'))) {
    const files = sources(join(root, 'services', service, 'src'));
    const text = files.map((file) => readFileSync(file, 'utf8')).join('\n');
    const shellName = SHELL_NAME.exec(text)?.[1];
    const prefix = PREFIX.exec(text)?.[1] ?? (shellName === undefined ? undefined : `convoy_${shellName.replaceAll('-', '_')}_`);
    if (prefix === undefined) continue;
    const own = registered(text);
    const all = text.includes('runPartitionProcessor(') ? [...own, ...processor] : own;
    for (const { name, kind } of all) for (const series of seriesOf(prefix + name, kind)) names.add(series);
  }
  return names;
}

/** Syntax errors (Prometheus' Lezer grammar) and metric names not in `known`, one line each. */
export function exprProblems(expr: string, known: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  let syntax = false;
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) syntax = true;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        const name = expr.slice(node.from, node.to);
        if (!known.has(name)) problems.push(`unknown metric ${name}`);
      }
    },
  });
  if (syntax) problems.push(`not valid PromQL: ${expr}`);
  return problems;
}
