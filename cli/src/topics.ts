import { ensureTopics, type TopicSpec } from '@convoy/kafka';
import { formatTable } from '@convoy/verdict';
import { openContext, type ConnectionFlags } from './connection.ts';

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** `name:partitions[:compact]` → a topic spec. Throws naming the bad argument. */
export function parseTopicSpec(text: string): TopicSpec {
  const parts = text.split(':');
  const [name, partitions, flag] = parts;
  if (parts.length < 2 || parts.length > 3 || name === undefined || !TOPIC.test(name)) {
    throw new Error(`${JSON.stringify(text)} is not name:partitions[:compact] (name: letters, digits, . _ -)`);
  }
  const count = Number(partitions);
  if (!/^[1-9][0-9]*$/.test(partitions ?? '') || count > 100_000) throw new Error(`${JSON.stringify(text)}: partitions must be an integer >= 1`);
  if (flag !== undefined && flag !== 'compact') throw new Error(`${JSON.stringify(text)}: the third part may only be "compact"`);
  return flag === 'compact' ? { topic: name, partitions: count, configs: { 'cleanup.policy': 'compact' } } : { topic: name, partitions: count };
}

/**
 * `convoy topics ensure`: creates the missing topics (existing ones are left as they are; one with
 * fewer partitions than asked fails with KAFKA_TOPIC_TOO_FEW_PARTITIONS), waits until all have
 * leaders, and prints each topic's actual partition count.
 */
export async function topicsEnsureCommand(specs: readonly string[], flags: ConnectionFlags): Promise<number> {
  const parsed = specs.map(parseTopicSpec);
  const ctx = openContext(flags, 'convoy-cli-topics');
  try {
    const counts = await ensureTopics(ctx.clients, parsed);
    process.stdout.write(`${formatTable(['topic', 'partitions'], parsed.map((s) => [s.topic, String(counts.get(s.topic) ?? '?')]))}\n`);
    return 0;
  } finally {
    await ctx.clients.disconnect();
  }
}
