// Static checks of docker-compose.yml and docker-compose.local.yml: what `docker compose up` would
// run, proven without a container engine. Every Convoy container's environment is loaded through
// its service's own config schema; unknown variables (typos) fail too. No broker needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig, type Schema } from '@convoy/config';
import { FLEET_PORTS, interpolate, namespaceProcess, planFleet, type PlannedProcess } from '../../scripts/fleet-plan.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
const LOCAL = readFileSync(`${ROOT}docker-compose.local.yml`, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  restart?: string;
  volumes?: string[];
}
const services = (parse(COMPOSE, { merge: true }) as { services: Record<string, Service> }).services;
const convoyNames = Object.keys(services).filter((name) => services[name]?.image === 'convoy:dev');
/** As inside the containers: compose's addresses untouched, defaults of every `${VAR:-x}`. */
const inContainer = planFleet(COMPOSE, { hostEnv: {}, addresses: {}, keepPorts: true });
const longRunning = inContainer.filter((p) => p.kind === 'service');

async function schemaOf(script: string): Promise<Schema> {
  const module = (await import(`../../${script.replace(/main\.ts$/, 'config.ts')}`)) as Record<string, unknown>;
  const found = Object.entries(module).filter(([name]) => name.endsWith('Schema'));
  assert.equal(found.length, 1, `${script}: expected one *Schema export in its config.ts`);
  return found[0]![1] as Schema;
}

const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

test('docker-compose v1.29 accepts the file alone and with the local override', { skip: dockerCompose ? false : 'docker-compose is not installed' }, () => {
  // `config -q` validates the schema, the anchors, depends_on conditions and interpolation.
  execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, stdio: 'pipe' });
  const merged = parse(execFileSync('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.local.yml', 'config'], { cwd: ROOT, encoding: 'utf8' })) as {
    services: Record<string, Service>;
  };
  for (const name of convoyNames) assert.equal(merged.services[name]?.image, 'localhost/convoy:dev', name);
  assert.deepEqual(merged.services['grafana']?.profiles, ['grafana']);
  assert.equal(merged.services['prometheus']?.image, 'localhost/convoy-prometheus:dev');
  assert.equal(merged.services['kafka']?.image, 'apache/kafka:4.1.1');
  assert.equal(merged.services['registry']?.image, 'apicurio/apicurio-registry:3.0.9');
});

test('the file has no version key and declares the workers as four services', () => {
  const raw = parse(COMPOSE) as Record<string, unknown>;
  assert.equal(raw['version'], undefined);
  assert.deepEqual(
    convoyNames.filter((n) => n.startsWith('worker')),
    ['worker-1', 'worker-2', 'worker-3', 'worker-4'],
  );
  for (const [name, service] of Object.entries(services)) assert.equal('deploy' in service, false, `${name}: docker-compose v1 ignores deploy.replicas`);
});

test('every long-running service has a healthcheck; one-shots disable theirs', () => {
  for (const [name, service] of Object.entries(services)) {
    const oneShot = service.restart === 'no' && service.command?.[0]?.startsWith('cli/') === true;
    if (oneShot) assert.equal(service.healthcheck?.disable, true, name);
    else {
      // Podman's Docker API (4.3) splits a ["CMD", ...] list at spaces; CMD-SHELL arrives whole.
      assert.equal(service.healthcheck?.test?.[0], 'CMD-SHELL', `${name}: healthcheck must be CMD-SHELL`);
      assert.equal(service.healthcheck?.test?.length, 2, name);
    }
  }
  // The Convoy probe is the service's own /healthz on its HTTP_PORT.
  for (const p of longRunning) {
    assert.equal(p.env['HTTP_PORT'], '9464', p.name);
    assert.match(services[p.name]!.healthcheck!.test![1]!, /fetch\('http:\/\/127\.0\.0\.1:9464\/healthz'\)/);
  }
});

test('start order: Kafka healthy, registry healthy, topics created, before any Convoy service', () => {
  for (const name of convoyNames) {
    const deps = services[name]!.depends_on ?? {};
    assert.equal(deps['kafka']?.condition, 'service_healthy', name);
    if (name === 'topic-init' || name === 'verify') continue;
    assert.equal(deps['registry']?.condition, 'service_healthy', name);
    assert.equal(deps['topic-init']?.condition, 'service_completed_successfully', name);
  }
  assert.equal(services['demo-producer']!.depends_on!['splitter']?.condition, 'service_healthy');
  assert.equal(services['grafana']!.depends_on!['prometheus']?.condition, 'service_healthy');
});

test("every Convoy container's environment passes its service's config schema, with no unknown variable", async () => {
  assert.deepEqual(
    longRunning.map((p) => p.name),
    ['splitter', 'worker-1', 'worker-2', 'worker-3', 'worker-4', 'merger', 'reorder-buffer', 'watermark-generator', 'watermark-forwarder', 'aggregator', 'demo-producer'],
  );
  for (const p of longRunning) {
    const schema = await schemaOf(p.script);
    const unknown = Object.keys(p.env).filter((key) => !(key in schema));
    assert.deepEqual(unknown, [], `${p.name}: variables its schema does not know`);
    const config = loadConfig(schema, p.env) as Record<string, unknown>;
    assert.deepEqual(config['KAFKA_BROKERS'], ['kafka:9092'], p.name);
  }
  // Values that matter to the topology, as parsed (durations in ms).
  const merger = loadConfig(await schemaOf('services/merger/src/main.ts'), longRunning.find((p) => p.name === 'merger')!.env) as Record<string, unknown>;
  assert.equal(merger['MERGER_GAP_TIMEOUT_MS'], 10_000);
  const wm = loadConfig(await schemaOf('services/watermark-generator/src/main.ts'), longRunning.find((p) => p.name === 'watermark-generator')!.env) as Record<string, unknown>;
  assert.equal(wm['WM_MAX_OUT_OF_ORDER_MS'], 30_000);
  assert.deepEqual(wm['WM_TOPICS'], ['convoy.reordered']);
});

test('a broken variable is caught: the check above can fail', async () => {
  const worker = longRunning.find((p) => p.name === 'worker-1')!;
  const schema = await schemaOf(worker.script);
  assert.throws(() => loadConfig(schema, { ...worker.env, WORKER_PROCESSED_PARTITIONS: 'three' }), /WORKER_PROCESSED_PARTITIONS="three" is not valid/);
  assert.equal('WORKER_PROCESOR' in schema, false);
});

test('topics: topic-init creates every topic a service reads, with matching partition counts', () => {
  const init = inContainer.find((p) => p.name === 'topic-init')!;
  assert.deepEqual(init.args.slice(0, 2), ['topics', 'ensure']);
  const partitions = new Map(init.args.slice(2).map((spec) => [spec.split(':')[0]!, Number(spec.split(':')[1])]));
  const env = (name: string) => longRunning.find((p) => p.name === name)!.env;
  for (const topic of ['convoy.input', 'convoy.ordered', 'convoy.reordered', 'convoy.timed', 'convoy.dlq']) assert.ok(partitions.has(topic), topic);
  assert.equal(env('demo-producer')['DEMO_TOPIC'], 'convoy.input');
  assert.equal(env('reorder-buffer')['REORDER_INPUT_TOPIC'], 'convoy.ordered');
  assert.equal(env('watermark-forwarder')['WMF_INPUT_TOPICS'], 'convoy.reordered');
  assert.equal(env('aggregator')['AGG_INPUT_TOPIC'], 'convoy.timed');
  // One worker per sub-stream; the processed topic has one partition per input partition.
  assert.equal(partitions.get('convoy.substreams'), Number(env('splitter')['SPLITTER_SUBSTREAMS']));
  assert.equal(longRunning.filter((p) => p.name.startsWith('worker-')).length, Number(env('splitter')['SPLITTER_SUBSTREAMS']));
  assert.equal(Number(env('worker-1')['WORKER_PROCESSED_PARTITIONS']), partitions.get('convoy.input'));
  assert.equal(partitions.get('convoy.ordered'), partitions.get('convoy.input'));
  assert.ok(init.args.includes('convoy.aggregates:3:compact'));
});

test('only the merger writes convoy.ordered (it resumes from the last record of each partition)', async () => {
  for (const p of longRunning) {
    if (p.name === 'merger') continue;
    const config = loadConfig(await schemaOf(p.script), p.env) as Record<string, unknown>;
    const outputs = Object.entries(config)
      .filter(([key]) => /OUTPUT_TOPIC$|^WM_TOPICS$|^DEMO_TOPIC$|PROCESSED_TOPIC$|SUBSTREAMS_TOPIC$/.test(key))
      .flatMap(([, value]) => (Array.isArray(value) ? value : [value]));
    assert.equal(outputs.includes('convoy.ordered'), false, `${p.name} writes convoy.ordered`);
  }
});

test('prometheus scrapes every long-running Convoy service on its HTTP port', () => {
  const prom = parse(readFileSync(`${ROOT}deploy/compose/prometheus.yml`, 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
  const targets = prom.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
  for (const p of longRunning) assert.ok(targets.includes(`${p.name}:9464`), `${p.name} is not scraped`);
  for (const target of targets) {
    const host = target.split(':')[0]!;
    assert.ok(host === 'localhost' || host in services, `scrape target ${target} is not a compose service`);
  }
  assert.deepEqual(services['prometheus']!.volumes, ['./deploy/compose/prometheus.yml:/etc/prometheus/prometheus.yml:ro']);
});

test('planFleet: compose interpolation, local addresses, one port per service', () => {
  assert.equal(interpolate('${A:-x}/${B-y}/${C:-}/$$D/${E}', { A: '', B: '', E: 'e' }), 'x///$D/e');
  assert.equal(interpolate('${A:-x}', { A: 'a' }), 'a');
  assert.equal(interpolate('${B-y}', {}), 'y');
  assert.throws(() => interpolate('${NEED:?set it}', {}), /NEED is required: set it/);
  const local = planFleet(COMPOSE, {
    hostEnv: { DEMO_COUNT: '500', DEMO_RATE: '50' },
    addresses: { 'kafka:9092': '127.0.0.1:39092', 'http://registry:8080/apis/ccompat/v7': 'http://127.0.0.1:38081/apis/ccompat/v7' },
  });
  const producer = local.find((p) => p.name === 'demo-producer')!;
  assert.equal(producer.env['DEMO_COUNT'], '500');
  assert.equal(producer.env['DEMO_RATE'], '50');
  assert.equal(producer.env['KAFKA_BROKERS'], '127.0.0.1:39092');
  assert.equal(producer.env['SCHEMA_REGISTRY_URL'], 'http://127.0.0.1:38081/apis/ccompat/v7');
  assert.equal(inContainer.find((p) => p.name === 'demo-producer')!.env['DEMO_COUNT'], '', 'unset by default: run until stopped');
  const ports = local.filter((p) => p.kind === 'service').map((p) => p.port);
  assert.equal(new Set(ports).size, ports.length);
  for (const [name, port] of Object.entries(FLEET_PORTS)) assert.equal(local.find((p) => p.name === name)?.env['HTTP_PORT'], String(port));
  assert.equal(local.some((p) => p.name === 'verify'), false, 'profile services are left out');
  assert.deepEqual(
    local.filter((p) => p.kind === 'one-shot').map((p) => p.name),
    ['topic-init'],
  );
});

test('namespaceProcess renames topics and groups, set or defaulted, and nothing else', () => {
  const p: PlannedProcess = { name: 'm', script: 's', args: ['convoy.a:3', 'convoy.b:1:compact'], env: { OUT: 'convoy.x', LIST: 'convoy.y,convoy.z', URL: 'http://registry:8080' }, kind: 'service', port: 1 };
  const renamed = namespaceProcess(p, { GROUP: 'convoy-merger', MODE: 'hash', OUT: 'convoy.default' }, 't1');
  assert.deepEqual(renamed.env, { GROUP: 't1-merger', OUT: 't1.x', LIST: 't1.y,t1.z', URL: 'http://registry:8080' });
  assert.deepEqual(renamed.args, ['t1.a:3', 't1.b:1:compact']);
});
