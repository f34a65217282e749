// `pnpm bench [name…]`: runs the named benchmarks (all by default), each in its own process so one
// cannot warm or pollute another's heap. Benchmarks are measurements, never tests.
import { spawnSync } from 'node:child_process';

const benches: Record<string, string[]> = {
  reorder: ['--expose-gc', 'libs/ordering/bench/reorder-throughput.ts'],
  quality: ['libs/ordering/bench/quality-experiment.ts'],
  convoy: ['bench/convoy/run.ts'],
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  process.stdout.write(`\n## bench: ${name}\n`);
  const run = spawnSync(process.execPath, benches[name]!, { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
