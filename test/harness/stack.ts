/**
 * Where integration tests find Kafka and the schema registry.
 *
 * The global setup (global-setup.ts) resolves the stack once per run and publishes it through
 * KAFKA_BROKERS / SCHEMA_REGISTRY_URL, which every test process inherits; tests call `testStack()`.
 */
import { randomBytes } from 'node:crypto';

export interface TestStack {
  readonly brokers: string[];
  readonly registryUrl: string | undefined;
}

export const NO_STACK_MESSAGE = [
  'Integration tests need a real Kafka broker and schema registry, and none was found:',
  '  - KAFKA_BROKERS (and SCHEMA_REGISTRY_URL) are not set, and',
  '  - no Docker-compatible engine answered for Testcontainers.',
  'Run everything with a local Kafka + registry (no Docker needed):  bash scripts/test.sh',
  'or start the stack yourself and keep it:  eval "$(bash scripts/stack.sh up)" && pnpm test',
  'or run only the unit tests:  pnpm test:unit',
].join('\n');

export function stackFromEnv(env: NodeJS.ProcessEnv = process.env): TestStack | undefined {
  const brokers = env['KAFKA_BROKERS']?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers === undefined || brokers.length === 0) return undefined;
  const registryUrl = env['SCHEMA_REGISTRY_URL']?.trim();
  return { brokers, registryUrl: registryUrl === '' ? undefined : registryUrl };
}

export function testStack(): TestStack {
  const stack = stackFromEnv();
  if (stack === undefined) throw new Error(NO_STACK_MESSAGE);
  return stack;
}

/** A topic or group name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
