/**
 * node:test global setup for runs that include integration tests. Resolves the stack once:
 *   1. KAFKA_BROKERS (and SCHEMA_REGISTRY_URL) when set;
 *   2. else Testcontainers, when a Docker-compatible engine answers (see containers.ts);
 *   3. else fails the run with one message saying what to run.
 * Test processes inherit the resolved KAFKA_BROKERS / SCHEMA_REGISTRY_URL, and
 * CONVOY_TEST_STACK_ORIGIN (env | testcontainers).
 */
import { containerEngineAvailable, KAFKA_IMAGE, REGISTRY_IMAGE, startContainers, type StartedContainers } from './containers.ts';
import { describeCluster } from './cluster.ts';
import { NO_STACK_MESSAGE, stackFromEnv } from './stack.ts';

let containers: StartedContainers | undefined;

export async function globalSetup(): Promise<void> {
  let stack = stackFromEnv();
  let origin = 'KAFKA_BROKERS';
  if (stack === undefined) {
    if (!(await containerEngineAvailable())) {
      process.stderr.write(`\n${NO_STACK_MESSAGE}\n\n`);
      process.exit(1);
    }
    containers = await startContainers();
    stack = containers.stack;
    origin = `Testcontainers: ${KAFKA_IMAGE}, ${REGISTRY_IMAGE}`;
    process.env['KAFKA_BROKERS'] = stack.brokers.join(',');
    if (stack.registryUrl !== undefined) process.env['SCHEMA_REGISTRY_URL'] = stack.registryUrl;
  }
  // Which path was taken, for tests that are only meaningful on one of them (test/containers).
  process.env['CONVOY_TEST_STACK_ORIGIN'] = containers === undefined ? 'env' : 'testcontainers';
  const cluster = await describeCluster(stack.brokers);
  process.stdout.write(
    `# stack (${origin}): kafka ${stack.brokers.join(',')} cluster ${cluster.clusterId} ` +
      `(${cluster.brokers} broker(s)); registry ${stack.registryUrl ?? 'none'}\n`,
  );
}

export async function globalTeardown(): Promise<void> {
  await containers?.stop();
}
