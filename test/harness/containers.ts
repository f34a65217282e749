/**
 * The Testcontainers path: when no stack is configured but a Docker-compatible engine answers,
 * start Kafka (KRaft) and a Confluent-compatible registry as containers for this test run.
 * Image names are overridable so locally built equivalents can stand in where nothing can be pulled.
 */
import type { StartedTestContainer } from 'testcontainers';
import type { TestStack } from './stack.ts';

export interface StartedContainers {
  readonly stack: TestStack;
  stop(): Promise<void>;
}

export const KAFKA_IMAGE = process.env['CONVOY_TEST_KAFKA_IMAGE'] ?? 'confluentinc/cp-kafka:7.9.0';
export const REGISTRY_IMAGE = process.env['CONVOY_TEST_REGISTRY_IMAGE'] ?? 'apicurio/apicurio-registry:3.0.9';

export async function containerEngineAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startContainers(): Promise<StartedContainers> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { GenericContainer, Wait } = await import('testcontainers');
  const kafka = await new KafkaContainer(KAFKA_IMAGE).withKraft().start();
  let registry: StartedTestContainer;
  try {
    registry = await new GenericContainer(REGISTRY_IMAGE)
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
      .start();
  } catch (error) {
    await kafka.stop();
    throw error;
  }
  const stack: TestStack = {
    brokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
  };
  return {
    stack,
    async stop() {
      await Promise.allSettled([registry.stop(), kafka.stop()]);
    },
  };
}
