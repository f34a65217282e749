// Used by scripts/stack.sh: exits 0 and prints the cluster id once a real metadata request
// succeeds against the given bootstrap servers.
import { describeCluster } from './cluster.ts';

try {
  const cluster = await describeCluster((process.argv[2] ?? '127.0.0.1:9092').split(','));
  process.stdout.write(`cluster ${cluster.clusterId}, ${cluster.brokers} broker(s), controller ${cluster.controller}\n`);
} catch (error) {
  process.stderr.write(`probe: ${(error as Error).message}\n`);
  process.exit(1);
}
