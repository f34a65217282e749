// Renders every overlay of deploy/k8s with kustomize and checks the result (no cluster, no Kafka):
// Kubernetes/KEDA schemas, security settings, probes, resources, grace periods, disruption budgets,
// single-instance services, the services' own config schemas, and partition-bounded replica counts.
// The second half feeds broken objects to the same checks, so a check that cannot fail shows up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  allProblems,
  availabilityProblems,
  ensuredTopics,
  findKustomize,
  idOf,
  jobProblems,
  kedaAuthProblems,
  parseManifests,
  podProblems,
  render,
  scaling,
  schemaProblems,
  serviceConfigs,
  topologyProblems,
  type Obj,
  type Renderer,
} from './k8s-checks.ts';

const K8S = resolve(import.meta.dirname, '../../deploy/k8s');
const SERVICES = ['splitter', 'worker', 'merger', 'reorder-buffer', 'watermark-generator', 'watermark-forwarder', 'aggregator'];

let renderer: Renderer;
const rendered = new Map<string, Obj[]>();

/** A kustomization in a temp dir over the base plus components, for the components no overlay uses. */
function renderWithComponents(components: string[]): Obj[] {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-k8s-'));
  try {
    // kustomize refuses absolute paths to other kustomizations; relative ones may leave the root.
    const lines = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', `  - ${relative(dir, join(K8S, 'base'))}`, 'components:'];
    for (const c of components) lines.push(`  - ${relative(dir, join(K8S, 'components', c))}`);
    writeFileSync(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
    return render(renderer, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const objectsOf = (name: string): Obj[] => rendered.get(name) as Obj[];
const get = (objects: readonly Obj[], kind: string, name: string): Obj => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `${kind}/${name} not rendered`);
  return found;
};
const clone = (objects: readonly Obj[]): Obj[] => structuredClone(objects) as Obj[];
const serviceContainer = (objects: readonly Obj[], deployment: string): Obj => get(objects, 'Deployment', deployment).spec.template.spec.containers[0];

before(() => {
  renderer = findKustomize();
  for (const overlay of ['dev', 'prod']) rendered.set(overlay, render(renderer, join(K8S, 'overlays', overlay)));
  rendered.set('base+hpa-fallback+service-monitor', renderWithComponents(['hpa-fallback', 'service-monitor']));
});

describe('rendered overlays', () => {
  for (const name of ['dev', 'prod', 'base+hpa-fallback+service-monitor']) {
    test(`${name}: every object passes every check`, (t) => {
      const objects = objectsOf(name);
      t.diagnostic(`${renderer.describe}: ${objects.length} objects (${[...new Set(objects.map((o) => o.kind))].join(', ')})`);
      assert.deepEqual(allProblems(objects), []);
    });
  }

  test('every service runs as a Deployment of the one image, with a metrics Service', () => {
    for (const overlay of ['dev', 'prod']) {
      const objects = objectsOf(overlay);
      const images = new Set<string>();
      for (const service of SERVICES) {
        const container = serviceContainer(objects, `convoy-${service}`);
        assert.deepEqual(container.args, [`services/${service}/src/main.ts`]);
        images.add(container.image);
        assert.equal(get(objects, 'Service', `convoy-${service}`).spec.ports[0].port, 9464);
      }
      const job = get(objects, 'Job', 'convoy-topics-init').spec.template.spec.containers[0];
      assert.deepEqual(job.args.slice(0, 3), ['cli/src/main.ts', 'topics', 'ensure']);
      images.add(job.image);
      assert.deepEqual([...images], [overlay === 'dev' ? 'convoy:dev' : 'registry.example.com/convoy/convoy:0.1.0']);
    }
  });

  test('dev: PLAINTEXT, no credentials, 2 workers, everything else 1, no autoscaler', () => {
    const objects = objectsOf('dev');
    const { configs, problems } = serviceConfigs(objects);
    assert.deepEqual(problems, []);
    const worker = configs.get('convoy-worker') as Obj;
    assert.equal(worker.KAFKA_SSL, false);
    assert.equal(worker.KAFKA_SASL_MECHANISM, undefined);
    assert.deepEqual(worker.KAFKA_BROKERS, ['kafka:9092']);
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
    const replicas = Object.fromEntries([...scaling(objects)].map(([name, s]) => [name, s.max]));
    assert.deepEqual(replicas, {
      'convoy-aggregator': 1,
      'convoy-merger': 1,
      'convoy-reorder-buffer': 1,
      'convoy-splitter': 1,
      'convoy-watermark-forwarder': 1,
      'convoy-watermark-generator': 1,
      'convoy-worker': 2,
    });
    assert.equal(objects.some((o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler'), false);
  });

  test('prod: SASL_SSL with mounted PEM CA, KEDA 2..8 workers on lag, 3 of the rest', () => {
    const objects = objectsOf('prod');
    const { configs } = serviceConfigs(objects);
    for (const [name, config] of configs) {
      assert.equal(config.KAFKA_SSL, true, name);
      assert.equal(config.KAFKA_SASL_MECHANISM, 'scram-sha-512', name);
      assert.equal(config.KAFKA_TLS_CA_FILE, '/etc/convoy/kafka-tls/ca.crt', name);
      assert.equal(config.KAFKA_SASL_USERNAME, 'REPLACE_ME', name);
    }
    const worker = get(objects, 'Deployment', 'convoy-worker');
    const tlsVolume = worker.spec.template.spec.volumes.find((v: Obj) => v.name === 'kafka-tls');
    const tlsSecret = get(objects, 'Secret', tlsVolume.secret.secretName);
    assert.deepEqual(Object.keys(tlsSecret.data), ['ca.crt']);
    assert.ok(serviceContainer(objects, 'convoy-worker').volumeMounts.some((m: Obj) => m.name === 'kafka-tls' && m.mountPath === '/etc/convoy/kafka-tls' && m.readOnly === true));
    const so = get(objects, 'ScaledObject', 'convoy-worker');
    assert.equal(so.spec.minReplicaCount, 2);
    assert.equal(so.spec.maxReplicaCount, 8);
    assert.equal(so.spec.triggers[0].metadata.consumerGroup, 'convoy-worker');
    assert.equal(so.spec.triggers[0].metadata.topic, 'convoy.substreams');
    assert.equal(worker.spec.replicas, undefined);
    for (const name of ['convoy-splitter', 'convoy-merger', 'convoy-reorder-buffer', 'convoy-aggregator']) assert.equal(get(objects, 'Deployment', name).spec.replicas, 3, name);
    assert.equal(serviceContainer(objects, 'convoy-merger').resources.limits.memory, '1536Mi');
  });

  test('grace period 45 s against the 25 s shutdown limit of libs/config', () => {
    for (const overlay of ['dev', 'prod']) {
      const { configs } = serviceConfigs(objectsOf(overlay));
      for (const [name, config] of configs) {
        assert.equal(config.SHUTDOWN_TIMEOUT_MS, 25_000, name);
        assert.equal(get(objectsOf(overlay), 'Deployment', name).spec.template.spec.terminationGracePeriodSeconds, 45, name);
      }
    }
  });

  test('the topics-init Job creates every topic with the documented partition counts', () => {
    assert.deepEqual(Object.fromEntries(ensuredTopics(objectsOf('prod'))), {
      'convoy.input': 6,
      'convoy.substreams': 8,
      'convoy.processed': 6,
      'convoy.ordered': 6,
      'convoy.ordered.late': 6,
      'convoy.unordered': 6,
      'convoy.reordered': 6,
      'convoy.reordered.late': 6,
      'convoy.timed': 6,
      'convoy.aggregates': 6,
      'convoy.aggregates.late': 6,
      'convoy.dlq': 3,
    });
  });
});

describe('the checks reject broken manifests', () => {
  test('schema: wrong types and a missing container name', () => {
    const deployment = structuredClone(get(objectsOf('dev'), 'Deployment', 'convoy-worker'));
    assert.deepEqual(schemaProblems(deployment), []);
    deployment.spec.replicas = 'two';
    delete deployment.spec.template.spec.containers[0].name;
    const [problem] = schemaProblems(deployment);
    assert.match(problem as string, /^Deployment\/convoy-worker: .*spec\/replicas must be integer/);
    assert.match(problem as string, /containers\/0 must have required property name/);
  });

  test('schema: a KEDA trigger with a number where a string belongs; an unknown kind', () => {
    const so = structuredClone(get(objectsOf('prod'), 'ScaledObject', 'convoy-worker'));
    so.spec.triggers[0].metadata.lagThreshold = 1000;
    assert.match(schemaProblems(so)[0] as string, /triggers\/0\/metadata\/lagThreshold must be string/);
    assert.deepEqual(schemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), ['Widget/w: no schema for example.com/v1 Widget']);
  });

  test('pod rules: writable root, escalation, capabilities, probes, limits, grace, root user', () => {
    const objects = clone(objectsOf('dev'));
    const worker = get(objects, 'Deployment', 'convoy-worker');
    const c = worker.spec.template.spec.containers[0];
    c.securityContext.readOnlyRootFilesystem = false;
    delete c.securityContext.allowPrivilegeEscalation;
    c.securityContext.capabilities = { drop: ['NET_RAW'], add: ['SYS_ADMIN'] };
    delete c.livenessProbe;
    delete c.resources.limits.memory;
    worker.spec.template.spec.terminationGracePeriodSeconds = 25;
    get(objects, 'Job', 'convoy-topics-init').spec.template.spec.securityContext.runAsUser = 0;
    get(objects, 'Job', 'convoy-topics-init').spec.template.spec.containers[0].securityContext.runAsUser = 0;
    assert.deepEqual(podProblems(objects, () => 25_000), [
      'Deployment/convoy-worker container service: readOnlyRootFilesystem is not true',
      'Deployment/convoy-worker container service: allowPrivilegeEscalation is not false',
      'Deployment/convoy-worker container service: capabilities.drop does not include ALL',
      'Deployment/convoy-worker container service: adds capabilities ["SYS_ADMIN"]',
      'Deployment/convoy-worker container service: no memory limits',
      'Deployment/convoy-worker container service: no liveness probe on /healthz',
      'Deployment/convoy-worker: terminationGracePeriodSeconds 25 is not at least 5 s above the shutdown limit 25000 ms',
      'Job/convoy-topics-init: pod securityContext.runAsUser is not a non-zero uid',
      'Job/convoy-topics-init container topics-init: runAsUser is not a non-zero uid',
    ]);
  });

  test('availability: a second forwarder, a rolling singleton, a missing PDB, replicas beside an autoscaler', () => {
    const objects = clone(objectsOf('prod')).filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'convoy-merger'));
    get(objects, 'Deployment', 'convoy-watermark-forwarder').spec.replicas = 2;
    get(objects, 'Deployment', 'convoy-watermark-generator').spec.strategy = { type: 'RollingUpdate' };
    get(objects, 'Deployment', 'convoy-worker').spec.replicas = 4;
    const { configs } = serviceConfigs(objects);
    assert.deepEqual(availabilityProblems(objects, configs), [
      'Deployment/convoy-merger: up to 3 replicas but no PodDisruptionBudget selects its pods',
      'Deployment/convoy-watermark-forwarder: single-instance service with replicas 2, expected 1',
      'Deployment/convoy-watermark-forwarder: up to 2 replicas but no PodDisruptionBudget selects its pods',
      'Deployment/convoy-watermark-generator: single-instance service without strategy Recreate (a rolling update runs two at once)',
      'Deployment/convoy-worker: autoscaled but sets spec.replicas (each apply would reset it)',
    ]);
  });

  test('service config: a misspelt variable and a value the service would refuse at start', () => {
    const objects = clone(objectsOf('dev'));
    serviceContainer(objects, 'convoy-worker').env.push({ name: 'WORKER_PROCESOR', value: 'enrich' });
    serviceContainer(objects, 'convoy-watermark-forwarder').env = serviceContainer(objects, 'convoy-watermark-forwarder').env.filter((e: Obj) => e.name !== 'WMF_OUTPUT_TOPIC');
    const { problems } = serviceConfigs(objects);
    assert.equal(problems.length, 2);
    assert.match(problems[0] as string, /^Deployment\/convoy-watermark-forwarder: the watermark-forwarder service would not start: [^]*WMF_OUTPUT_TOPIC is missing/);
    assert.equal(problems[1], 'Deployment/convoy-worker: WORKER_PROCESOR is not a variable of the worker service (services/worker/src/config.ts)');
  });

  test('topology: more workers than sub-stream partitions, N out of step, a topic nobody creates', () => {
    const objects = clone(objectsOf('prod'));
    get(objects, 'ScaledObject', 'convoy-worker').spec.maxReplicaCount = 9;
    serviceContainer(objects, 'convoy-splitter').env.find((e: Obj) => e.name === 'SPLITTER_SUBSTREAMS').value = '4';
    serviceContainer(objects, 'convoy-aggregator').env.find((e: Obj) => e.name === 'AGG_INPUT_TOPIC').value = 'convoy.nowhere';
    const { configs } = serviceConfigs(objects);
    assert.deepEqual(topologyProblems(objects, configs), [
      'Deployment/convoy-aggregator: topic convoy.nowhere is not created by the topics-init Job',
      'Deployment/convoy-splitter: SPLITTER_SUBSTREAMS=4 but convoy.substreams has 8 partitions',
      'Deployment/convoy-worker: up to 9 replicas but its input convoy.substreams has 8 partitions (the rest would sit idle)',
      'ScaledObject/convoy-worker: maxReplicaCount 9 is not the 8 partitions of convoy.substreams',
    ]);
  });

  test('KEDA auth out of step with the services, and a missing credentials Secret', () => {
    const objects = clone(objectsOf('prod'));
    const cm = objects.find((o) => o.kind === 'ConfigMap' && String(o.metadata.name).startsWith('convoy-kafka-')) as Obj;
    cm.data.KAFKA_SASL_MECHANISM = 'scram-sha-256';
    assert.deepEqual(kedaAuthProblems(objects, serviceConfigs(objects).configs), [
      'ScaledObject/convoy-worker: KEDA sasl scram_sha512 does not match KAFKA_SASL_MECHANISM scram-sha-256',
    ]);
    const withoutCredentials = clone(objectsOf('prod')).filter((o) => !(o.kind === 'Secret' && String(o.metadata.name).startsWith('convoy-kafka-credentials')));
    const problems = kedaAuthProblems(withoutCredentials, serviceConfigs(withoutCredentials).configs);
    assert.equal(problems.filter((p) => /TriggerAuthentication\/convoy-worker-kafka: Secret convoy-kafka-credentials-\w+ does not exist/.test(p)).length, 2);
  });

  test('topics-init: a spec the CLI refuses, and SASL without its Secret', () => {
    const objects = clone(objectsOf('prod')).filter((o) => !(o.kind === 'Secret' && String(o.metadata.name).startsWith('convoy-kafka-credentials')));
    get(objects, 'Job', 'convoy-topics-init').spec.template.spec.containers[0].args.push('convoy.extra:0');
    const problems = jobProblems(objects);
    assert.equal(problems.length, 2);
    assert.equal(problems[0], 'Job/convoy-topics-init: "convoy.extra:0": partitions must be an integer >= 1');
    assert.match(problems[1] as string, /^Job\/convoy-topics-init: the CLI would not start: [^]*KAFKA_SASL_MECHANISM="scram-sha-512" needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });

  test('parseManifests reads multi-document YAML and rejects broken YAML', () => {
    const objects = parseManifests('kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\n');
    assert.deepEqual(objects.map(idOf), ['A/a', 'B/b']);
    assert.throws(() => parseManifests('kind: [unclosed\n'), /YAML error/);
  });
});
