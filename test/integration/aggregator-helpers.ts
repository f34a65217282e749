/** Shared setup of the aggregator integration tests: unique topics, a spawned service, cleanup. */
import type { TestContext } from 'node:test';
import { ServiceProcess } from '../harness/processes.ts';
import { uniqueName } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, type ReadRecord } from '../harness/topics.ts';

export interface AggregatorRun {
  input: string;
  output: string;
  late: string;
  dlq: string;
  changelog: string;
  group: string;
  proc: ServiceProcess;
}

export async function startAggregator(t: TestContext, partitions: number, env: Record<string, string>): Promise<AggregatorRun> {
  const input = uniqueName('agg-in');
  const output = uniqueName('agg-out');
  const run = {
    input,
    output,
    late: `${output}.late`,
    dlq: uniqueName('agg-dlq'),
    changelog: uniqueName('agg-changelog'),
    group: uniqueName('agg-group'),
  };
  await createTopics([{ topic: input, partitions }]);
  const proc = await ServiceProcess.start({
    service: 'aggregator',
    name: 'aggregator',
    env: {
      AGG_INPUT_TOPIC: run.input,
      AGG_OUTPUT_TOPIC: run.output,
      AGG_DLQ_TOPIC: run.dlq,
      AGG_CHANGELOG_TOPIC: run.changelog,
      AGG_GROUP_ID: run.group,
      AGG_TICK_INTERVAL_MS: '200',
      ...env,
    },
  });
  t.after(async () => {
    await proc.stop();
    await deleteTopics([run.input, run.output, run.late, run.dlq, run.changelog]).catch(() => undefined);
    await deleteGroups([run.group]).catch(() => undefined);
  });
  await proc.ready();
  return { ...run, proc };
}

export function json(record: ReadRecord): Record<string, unknown> {
  return JSON.parse(String(record.value)) as Record<string, unknown>;
}
