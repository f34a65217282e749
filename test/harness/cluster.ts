import { Kafka, logLevel } from 'kafkajs';

export interface ClusterInfo {
  readonly clusterId: string;
  readonly brokers: number;
  readonly controller: number | null;
}

export async function describeCluster(brokers: string[]): Promise<ClusterInfo> {
  const admin = new Kafka({ clientId: 'convoy-test-harness', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, controller: cluster.controller };
  } finally {
    await admin.disconnect();
  }
}
