/**
 * The Testcontainers path: when no stack is configured but a Docker-compatible engine answers,
 * start Kafka (KRaft, single node) and an Apicurio registry as containers for this test run.
 *
 * Both are configured the way the upstream images are (apache/kafka's KAFKA_* env, Apicurio's
 * port 8080), so the upstream images and the local equivalents built by `scripts/engine.sh images`
 * (tagged with the upstream names) are interchangeable. Image names are overridable with
 * CONVOY_TEST_KAFKA_IMAGE / CONVOY_TEST_REGISTRY_IMAGE.
 */
import type { GenericContainer, StartedTestContainer } from 'testcontainers';
import { describeCluster } from './cluster.ts';
import type { TestStack } from './stack.ts';

export interface StartedContainers {
  readonly stack: TestStack;
  stop(): Promise<void>;
}

export const KAFKA_IMAGE = process.env['CONVOY_TEST_KAFKA_IMAGE'] ?? 'apache/kafka:4.1.1';
export const REGISTRY_IMAGE = process.env['CONVOY_TEST_REGISTRY_IMAGE'] ?? 'apicurio/apicurio-registry:3.0.9';

/** The port clients on the host use (mapped to a random host port). */
const KAFKA_CLIENT_PORT = 9092;
const KAFKA_STARTER = '/tmp/convoy-start-kafka.sh';
const KAFKA_WAITING = 'convoy: waiting for the starter script';
const STARTUP_TIMEOUT_MS = 180_000;

export async function containerEngineAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * The broker's settings in the apache/kafka env interface. Same broker behaviour as
 * scripts/stack.sh (no topic auto-creation, 10-partition internal topics, no rebalance delay).
 * The advertised listeners are set at start, once the mapped host port is known.
 */
export const KAFKA_ENV: Readonly<Record<string, string>> = {
  CLUSTER_ID: 'v3Zj5rFDSLaBZkkMty9LTg',
  KAFKA_NODE_ID: '1',
  KAFKA_PROCESS_ROLES: 'broker,controller',
  KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${KAFKA_CLIENT_PORT},BROKER://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093`,
  KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
  KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
  KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
  KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
  KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
  KAFKA_NUM_PARTITIONS: '1',
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
  KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '10',
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
  KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '10',
  KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
  KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
  KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEAP_OPTS: '-Xms256m -Xmx768m',
};

/**
 * Kafka must advertise the host port Docker mapped, which is only known after the container
 * starts. So the container first waits for a starter script; once the port is known the script
 * is copied in, and it execs the image's own entry point with the advertised listeners set.
 */
async function startKafka(image: string): Promise<StartedTestContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container: GenericContainer = new GenericContainer(image)
    .withEnvironment({ ...KAFKA_ENV })
    .withExposedPorts(KAFKA_CLIENT_PORT)
    .withEntrypoint(['/bin/sh'])
    .withCommand(['-c', `echo '${KAFKA_WAITING}'; while [ ! -f ${KAFKA_STARTER} ]; do sleep 0.1; done; exec /bin/bash ${KAFKA_STARTER}`])
    .withWaitStrategy(Wait.forLogMessage(KAFKA_WAITING))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
  const kafka = await container.start();
  try {
    const advertised = `PLAINTEXT://${kafka.getHost()}:${kafka.getMappedPort(KAFKA_CLIENT_PORT)},BROKER://localhost:19092`;
    await kafka.copyContentToContainer([
      {
        content: `export KAFKA_ADVERTISED_LISTENERS='${advertised}'\nexec /etc/kafka/docker/run\n`,
        target: KAFKA_STARTER,
        mode: 0o755,
      },
    ]);
    await untilKafkaAnswers([`${kafka.getHost()}:${kafka.getMappedPort(KAFKA_CLIENT_PORT)}`], kafka);
    return kafka;
  } catch (error) {
    await kafka.stop();
    throw error;
  }
}

/** Polls the broker's metadata until it answers. */
async function untilKafkaAnswers(brokers: string[], kafka: StartedTestContainer): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await describeCluster(brokers);
      return;
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  throw new Error(
    `Kafka in ${KAFKA_IMAGE} did not answer at ${brokers.join(',')} within ${STARTUP_TIMEOUT_MS} ms ` +
      `(last error: ${last instanceof Error ? last.message : String(last)}); its log: docker logs ${kafka.getId()}`,
  );
}

async function startRegistry(image: string): Promise<StartedTestContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  return new GenericContainer(image)
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
}

export async function startContainers(): Promise<StartedContainers> {
  const [kafka, registry] = await Promise.allSettled([startKafka(KAFKA_IMAGE), startRegistry(REGISTRY_IMAGE)]);
  if (kafka.status === 'rejected' || registry.status === 'rejected') {
    await Promise.allSettled([kafka, registry].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw kafka.status === 'rejected' ? kafka.reason : (registry as PromiseRejectedResult).reason;
  }
  const stack: TestStack = {
    brokers: [`${kafka.value.getHost()}:${kafka.value.getMappedPort(KAFKA_CLIENT_PORT)}`],
    registryUrl: `http://${registry.value.getHost()}:${registry.value.getMappedPort(8080)}/apis/ccompat/v7`,
  };
  return {
    stack,
    async stop() {
      await Promise.allSettled([registry.value.stop(), kafka.value.stop()]);
    },
  };
}
