/**
 * Helpers shared by the kafka-* and codecs-* integration tests (real broker, unique names).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { createKafkaClients, deleteGroups, deleteTopics, ensureTopics, runConsumer } from '@convoy/kafka';
import type { ConvoyRecord, KafkaClients } from '@convoy/kafka';
// @convoy/logging is not a dependency of the test package; reached by path.
import { createLogger } from '@convoy/logging';
import { testStack, uniqueName } from '../harness/stack.ts';

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Registers cleanup to run after the test, last registered first (node:test runs `t.after` hooks
 * first-registered first, which would disconnect the clients before the topics are deleted).
 */
export function defer(t: TestContext, cleanup: () => unknown): void {
  let list = cleanups.get(t);
  if (list === undefined) {
    cleanups.set(t, (list = []));
    t.after(async () => {
      for (const step of list!.reverse()) await step();
    });
  }
  list.push(cleanup);
}

export function testClients(t: TestContext, clientId = uniqueName('convoy-it')): KafkaClients {
  const logger = createLogger({ name: 'it', level: (process.env['TEST_LOG_LEVEL'] as 'warn' | undefined) ?? 'error', pretty: false });
  const clients = createKafkaClients(
    {
      KAFKA_BROKERS: testStack().brokers,
      KAFKA_SSL: false,
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD: undefined,
      KAFKA_TLS_CA_FILE: undefined,
      KAFKA_TLS_CERT_FILE: undefined,
      KAFKA_TLS_KEY_FILE: undefined,
    },
    { logger, clientId },
  );
  defer(t, () => clients.disconnect());
  return clients;
}

/** Creates topics with unique names and deletes them after the test. */
export async function testTopics(t: TestContext, clients: KafkaClients, specs: Record<string, number>): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const role of Object.keys(specs)) names[role] = uniqueName(`it-${role}`);
  await ensureTopics(clients, Object.entries(specs).map(([role, partitions]) => ({ topic: names[role]!, partitions })));
  defer(t, () => deleteTopics(clients, Object.values(names)));
  return names;
}

/**
 * Reads `topic` from the beginning with a fresh group until `until(records)` holds, then lingers
 * `settleMs` more so extra (unexpected) records show up too. Rejects after `timeoutMs`.
 */
export async function readTopic(
  clients: KafkaClients,
  topic: string,
  until: (records: ConvoyRecord[]) => boolean,
  options: { isolation?: 'read_committed' | 'read_uncommitted'; timeoutMs?: number; settleMs?: number } = {},
): Promise<ConvoyRecord[]> {
  const records: ConvoyRecord[] = [];
  const groupId = uniqueName('it-reader');
  const loop = await runConsumer({
    clients,
    groupId,
    topics: [topic],
    isolation: options.isolation ?? 'read_committed',
    onBatch: (_p, batch) => void records.push(...batch),
  });
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    while (!until(records)) {
      if (Date.now() > deadline) throw new Error(`readTopic(${topic}): condition not met in time, got ${records.length} records`);
      await sleep(50);
    }
    await sleep(options.settleMs ?? 300);
    return records;
  } finally {
    await loop.stop();
    await deleteGroups(clients, [groupId]);
  }
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
