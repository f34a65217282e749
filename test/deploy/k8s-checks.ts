// Checks over rendered Kubernetes manifests (deploy/k8s): schema validation with kubernetes-models,
// the security and availability rules of docs/kubernetes.md, the services' own config schemas, and
// the partition counts that bound replica counts. Pure functions over parsed objects, so the tests
// can feed them broken objects; only `findKustomize` and `render` touch the machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { loadConnection } from '../../cli/src/connection.ts';
import { parseTopicSpec } from '../../cli/src/topics.ts';
import { aggregatorSchema, loadAggregatorConfig } from '../../services/aggregator/src/config.ts';
import { loadMergerConfig, mergerSchema } from '../../services/merger/src/config.ts';
import { loadReorderConfig, reorderSchema } from '../../services/reorder-buffer/src/config.ts';
import { loadSplitterConfig, splitterSchema } from '../../services/splitter/src/config.ts';
import { forwarderSchema, loadForwarderConfig } from '../../services/watermark-forwarder/src/config.ts';
import { generatorSchema, loadGeneratorConfig } from '../../services/watermark-generator/src/config.ts';
import { loadWorkerConfig, workerSchema } from '../../services/worker/src/config.ts';

// Manifests are untyped YAML; the checks read them defensively through this loose shape.
export type Obj = Record<string, any>;

export const KUSTOMIZE_VERSION = 'v5.5.0';

export interface Renderer {
  /** What renders, for messages: `kubectl kustomize` or a kustomize binary path. */
  describe: string;
  command: string;
  args(dir: string): string[];
}

function runs(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0;
}

/**
 * kubectl's built-in kustomize, else a kustomize binary (CONVOY_KUSTOMIZE, PATH, ~/go/bin), else
 * `go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0` when Go is there; otherwise an error that
 * says what to install.
 */
export function findKustomize(env: NodeJS.ProcessEnv = process.env): Renderer {
  const explicit = env['CONVOY_KUSTOMIZE'];
  if (explicit !== undefined && explicit !== '') return { describe: explicit, command: explicit, args: (dir) => ['build', dir] };
  if (runs('kubectl', ['version', '--client'])) return { describe: 'kubectl kustomize', command: 'kubectl', args: (dir) => ['kustomize', dir] };
  if (runs('kustomize', ['version'])) return { describe: 'kustomize', command: 'kustomize', args: (dir) => ['build', dir] };
  const goBin = (): string => {
    const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim() || join(homedir(), 'go');
    return join(gopath, 'bin', 'kustomize');
  };
  if (runs('go', ['version'])) {
    const bin = goBin();
    if (!existsSync(bin)) {
      const install = spawnSync('go', ['install', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], { encoding: 'utf8', timeout: 600_000 });
      if (install.status !== 0) throw new Error(`neither kubectl nor kustomize found, and 'go install sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}' failed:\n${install.stderr}`);
    }
    return { describe: bin, command: bin, args: (dir) => ['build', dir] };
  }
  throw new Error(
    `cannot render deploy/k8s: install kubectl (>= 1.27, kustomize built in) or kustomize ${KUSTOMIZE_VERSION} ` +
      `(go install sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}), or set CONVOY_KUSTOMIZE to a kustomize binary`,
  );
}

/** Renders a kustomization directory and parses every YAML document; a render or parse error throws. */
export function render(renderer: Renderer, dir: string): Obj[] {
  const result = spawnSync(renderer.command, renderer.args(dir), { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${renderer.describe} ${dir} failed (exit ${result.status}):\n${result.stderr}${result.error ?? ''}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): Obj[] {
  const objects: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) objects.push(value as Obj);
  }
  return objects;
}

export const idOf = (o: Obj): string => `${o.kind}/${o.metadata?.name}`;

// --- schema validation ----------------------------------------------------------------------------

type ModelClass = new (data: Obj) => { validate(): void };

const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'batch/v1': batchV1,
  'policy/v1': policyV1,
  'autoscaling/v2': autoscalingV2,
  'keda.sh/v1alpha1': kedaV1alpha1,
  'monitoring.coreos.com/v1': monitoringV1,
};

/**
 * kustomize wraps long base64 Secret data at 70 columns; the API server's decoder skips those line
 * breaks, the schema's "byte" format does not.
 */
function normalized(object: Obj): Obj {
  if (object.kind !== 'Secret' || object.data === undefined) return object;
  const data = Object.fromEntries(Object.entries(object.data as Record<string, unknown>).map(([k, v]) => [k, String(v).replace(/[\r\n]/g, '')]));
  return { ...object, data };
}

/**
 * The object against the Kubernetes (or KEDA / Prometheus Operator) JSON schema of its apiVersion and
 * kind. A kind with no schema here is a problem too, so nothing passes unvalidated. The schemas do
 * not forbid unknown fields; the rule checks below read exact field names, which covers typos in
 * the fields that matter.
 */
export function schemaProblems(object: Obj): string[] {
  const group = MODELS[String(object.apiVersion)];
  const model = group?.[String(object.kind)];
  if (typeof model !== 'function') return [`${idOf(object)}: no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new (model as ModelClass)(normalized(object)).validate();
    return [];
  } catch (error) {
    return [`${idOf(object)}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

// --- services and their config --------------------------------------------------------------------

interface ServiceSpec {
  schema: Record<string, unknown>;
  load(env: Record<string, string | undefined>): Obj;
  /** Topics it consumes (each partition by one member of its group), or must find (the generator's). */
  inputs(config: Obj): string[];
  /** Must run as exactly one instance (its docs say why). */
  singleton: boolean;
}

export const SERVICES: Record<string, ServiceSpec> = {
  splitter: { schema: splitterSchema, load: loadSplitterConfig, inputs: (c) => [c.SPLITTER_INPUT_TOPIC], singleton: false },
  worker: { schema: workerSchema, load: loadWorkerConfig, inputs: (c) => [c.WORKER_INPUT_TOPIC], singleton: false },
  merger: { schema: mergerSchema, load: loadMergerConfig, inputs: (c) => [c.MERGER_INPUT_TOPIC], singleton: false },
  'reorder-buffer': { schema: reorderSchema, load: loadReorderConfig, inputs: (c) => [c.REORDER_INPUT_TOPIC], singleton: false },
  aggregator: { schema: aggregatorSchema, load: loadAggregatorConfig, inputs: (c) => [c.AGG_INPUT_TOPIC], singleton: false },
  'watermark-generator': { schema: generatorSchema, load: loadGeneratorConfig, inputs: (c) => [...c.WM_TOPICS], singleton: true },
  'watermark-forwarder': { schema: forwarderSchema, load: loadForwarderConfig, inputs: (c) => [...c.WMF_INPUT_TOPICS], singleton: true },
};

const byKind = (objects: readonly Obj[], kind: string): Obj[] => objects.filter((o) => o.kind === kind);
const find = (objects: readonly Obj[], kind: string, name: string): Obj | undefined => objects.find((o) => o.kind === kind && o.metadata?.name === name);

/** `services/<name>/src/main.ts` in the container's args → `<name>`. */
export function serviceOf(container: Obj): string | undefined {
  const args: unknown[] = [...(container.command ?? []), ...(container.args ?? [])];
  for (const arg of args) {
    const match = /^services\/([a-z-]+)\/src\/main\.ts$/.exec(String(arg));
    if (match) return match[1];
  }
  return undefined;
}

function secretData(secret: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(String(value), 'base64').toString('utf8');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = String(value);
  return out;
}

/**
 * The environment a container starts with: envFrom ConfigMaps and Secrets (in order), then env.
 * A missing non-optional source is a problem; valueFrom entries get a placeholder value.
 */
export function containerEnv(objects: readonly Obj[], container: Obj): { env: Record<string, string>; explicit: string[]; problems: string[] } {
  const env: Record<string, string> = {};
  const explicit: string[] = [];
  const problems: string[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const cm = find(objects, 'ConfigMap', source.configMapRef.name);
      if (cm) {
        for (const [key, value] of Object.entries(cm.data ?? {})) {
          env[key] = String(value);
          explicit.push(key);
        }
      } else if (source.configMapRef.optional !== true) problems.push(`container ${container.name}: ConfigMap ${source.configMapRef.name} does not exist`);
    }
    if (source.secretRef) {
      const secret = find(objects, 'Secret', source.secretRef.name);
      if (secret) {
        for (const [key, value] of Object.entries(secretData(secret))) {
          env[key] = value;
          explicit.push(key);
        }
      } else if (source.secretRef.optional !== true) problems.push(`container ${container.name}: Secret ${source.secretRef.name} does not exist`);
    }
  }
  for (const entry of container.env ?? []) {
    env[entry.name] = entry.value ?? (entry.valueFrom ? `from-${Object.keys(entry.valueFrom)[0]}` : '');
    explicit.push(entry.name);
  }
  return { env, explicit, problems };
}

/** Each Deployment's service config, parsed by the service's own loader from the rendered env. */
export function serviceConfigs(objects: readonly Obj[]): { configs: Map<string, Obj>; problems: string[] } {
  const configs = new Map<string, Obj>();
  const problems: string[] = [];
  for (const deployment of byKind(objects, 'Deployment')) {
    for (const container of deployment.spec?.template?.spec?.containers ?? []) {
      const name = serviceOf(container);
      const spec = name === undefined ? undefined : SERVICES[name];
      if (name === undefined || spec === undefined) {
        problems.push(`${idOf(deployment)}: container ${container.name} runs no known service (args ${JSON.stringify(container.args)})`);
        continue;
      }
      const { env, explicit, problems: refProblems } = containerEnv(objects, container);
      problems.push(...refProblems.map((p) => `${idOf(deployment)}: ${p}`));
      for (const variable of new Set(explicit)) {
        if (!(variable in spec.schema)) problems.push(`${idOf(deployment)}: ${variable} is not a variable of the ${name} service (services/${name}/src/config.ts)`);
      }
      try {
        configs.set(deployment.metadata.name, { service: name, ...spec.load(env) });
      } catch (error) {
        problems.push(`${idOf(deployment)}: the ${name} service would not start: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return { configs, problems };
}

// --- pod rules ------------------------------------------------------------------------------------

function podSpecs(objects: readonly Obj[]): { owner: Obj; pod: Obj; longRunning: boolean }[] {
  const out: { owner: Obj; pod: Obj; longRunning: boolean }[] = [];
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet') out.push({ owner: o, pod: o.spec?.template?.spec ?? {}, longRunning: true });
    if (o.kind === 'Job') out.push({ owner: o, pod: o.spec?.template?.spec ?? {}, longRunning: false });
    if (o.kind === 'CronJob') out.push({ owner: o, pod: o.spec?.jobTemplate?.spec?.template?.spec ?? {}, longRunning: false });
    if (o.kind === 'Pod') out.push({ owner: o, pod: o.spec ?? {}, longRunning: true });
  }
  return out;
}

function quantityPresent(value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || (typeof value === 'number' && value > 0);
}

/**
 * Every container of every workload: non-root with a non-zero uid, read-only root filesystem, no
 * privilege escalation, all capabilities dropped and none added, RuntimeDefault seccomp, requests
 * and limits for cpu and memory, an image with a tag. Long-running ones also need liveness and
 * readiness probes and a grace period above the service's shutdown limit (`shutdownMs` per owner).
 */
export function podProblems(objects: readonly Obj[], shutdownMs: (owner: Obj) => number | undefined): string[] {
  const problems: string[] = [];
  for (const { owner, pod, longRunning } of podSpecs(objects)) {
    const at = idOf(owner);
    const podSc = pod.securityContext ?? {};
    if (podSc.runAsNonRoot !== true) problems.push(`${at}: pod securityContext.runAsNonRoot is not true`);
    if (!(Number.isInteger(podSc.runAsUser) && podSc.runAsUser > 0)) problems.push(`${at}: pod securityContext.runAsUser is not a non-zero uid`);
    if (pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true) problems.push(`${at}: shares a host namespace`);
    const containers: Obj[] = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
    if (containers.length === 0) problems.push(`${at}: no containers`);
    for (const c of containers) {
      const where = `${at} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      const uid = sc.runAsUser ?? podSc.runAsUser;
      if (!(Number.isInteger(uid) && uid > 0)) problems.push(`${where}: runAsUser is not a non-zero uid`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) problems.push(`${where}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities.drop does not include ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities ${JSON.stringify(sc.capabilities.add)}`);
      if ((sc.seccompProfile ?? podSc.seccompProfile)?.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory'] as const) {
          if (!quantityPresent(c.resources?.[kind]?.[resource])) problems.push(`${where}: no ${resource} ${kind}`);
        }
      }
      const image = String(c.image ?? '');
      if (!/[:@]/.test(image.split('/').pop() ?? '') || image.endsWith(':latest')) problems.push(`${where}: image ${JSON.stringify(image)} is not pinned to a tag or digest`);
      const mounts: Obj[] = c.volumeMounts ?? [];
      const tmp = mounts.find((m) => m.mountPath === '/tmp');
      if (!tmp || !(pod.volumes ?? []).some((v: Obj) => v.name === tmp.name && v.emptyDir !== undefined)) problems.push(`${where}: no emptyDir at /tmp (the root filesystem is read-only)`);
    }
    if (!longRunning) continue;
    for (const c of pod.containers ?? []) {
      const where = `${at} container ${c.name}`;
      if (c.livenessProbe?.httpGet?.path !== '/healthz') problems.push(`${where}: no liveness probe on /healthz`);
      if (c.readinessProbe?.httpGet?.path !== '/readyz') problems.push(`${where}: no readiness probe on /readyz`);
    }
    const limit = shutdownMs(owner);
    const grace = pod.terminationGracePeriodSeconds;
    if (limit === undefined) problems.push(`${at}: shutdown limit unknown`);
    else if (!(Number.isInteger(grace) && grace * 1000 >= limit + 5_000)) {
      problems.push(`${at}: terminationGracePeriodSeconds ${grace} is not at least 5 s above the shutdown limit ${limit} ms`);
    }
  }
  return problems;
}

// --- replicas, autoscaling, disruption budgets ----------------------------------------------------

export interface Scaling {
  /** The most replicas the Deployment can have: its replicas, or its autoscaler's maximum. */
  max: number;
  /** The fewest: its replicas, or its autoscaler's minimum. */
  min: number;
  autoscaler?: Obj;
}

/** Replica bounds per Deployment name, from spec.replicas (default 1) or a ScaledObject / HPA on it. */
export function scaling(objects: readonly Obj[]): Map<string, Scaling> {
  const out = new Map<string, Scaling>();
  for (const d of byKind(objects, 'Deployment')) {
    const replicas = d.spec?.replicas ?? 1;
    out.set(d.metadata.name, { min: replicas, max: replicas });
  }
  for (const so of byKind(objects, 'ScaledObject')) {
    const name = so.spec?.scaleTargetRef?.name;
    out.set(name, { min: so.spec?.minReplicaCount ?? 0, max: so.spec?.maxReplicaCount ?? 100, autoscaler: so });
  }
  for (const hpa of byKind(objects, 'HorizontalPodAutoscaler')) {
    const name = hpa.spec?.scaleTargetRef?.name;
    out.set(name, { min: hpa.spec?.minReplicas ?? 1, max: hpa.spec?.maxReplicas, autoscaler: hpa });
  }
  return out;
}

const selects = (selector: Obj | undefined, labels: Obj | undefined): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/**
 * Every Deployment that can run more than one replica has a PodDisruptionBudget selecting its pods;
 * singletons run exactly one replica with the Recreate strategy and no autoscaler; an autoscaled
 * Deployment leaves spec.replicas to its autoscaler; every Deployment has a Service for its metrics
 * port; a Deployment is targeted by at most one autoscaler.
 */
export function availabilityProblems(objects: readonly Obj[], configs: ReadonlyMap<string, Obj>): string[] {
  const problems: string[] = [];
  const scales = scaling(objects);
  const autoscalers = [...byKind(objects, 'ScaledObject'), ...byKind(objects, 'HorizontalPodAutoscaler')];
  for (const d of byKind(objects, 'Deployment')) {
    const name: string = d.metadata.name;
    const at = idOf(d);
    const labels = d.spec?.template?.metadata?.labels;
    const scale = scales.get(name) as Scaling;
    const targeting = autoscalers.filter((a) => a.spec?.scaleTargetRef?.name === name);
    if (targeting.length > 1) problems.push(`${at}: targeted by ${targeting.length} autoscalers (${targeting.map(idOf).join(', ')})`);
    if (targeting.length > 0 && d.spec?.replicas !== undefined) problems.push(`${at}: autoscaled but sets spec.replicas (each apply would reset it)`);
    const service = configs.get(name)?.service as string | undefined;
    if (service !== undefined && SERVICES[service]?.singleton) {
      if (d.spec?.replicas !== 1) problems.push(`${at}: single-instance service with replicas ${d.spec?.replicas}, expected 1`);
      if (d.spec?.strategy?.type !== 'Recreate') problems.push(`${at}: single-instance service without strategy Recreate (a rolling update runs two at once)`);
      if (targeting.length > 0) problems.push(`${at}: single-instance service is autoscaled`);
    }
    if (scale.max > 1) {
      const pdb = byKind(objects, 'PodDisruptionBudget').find((p) => selects(p.spec?.selector?.matchLabels, labels));
      if (!pdb) problems.push(`${at}: up to ${scale.max} replicas but no PodDisruptionBudget selects its pods`);
    }
    const svc = byKind(objects, 'Service').find((s) => selects(s.spec?.selector, labels));
    if (!svc || !(svc.spec?.ports ?? []).some((p: Obj) => p.targetPort === 'http' || p.targetPort === 9464)) problems.push(`${at}: no Service exposes its metrics port`);
  }
  return problems;
}

// --- topics and partition counts ------------------------------------------------------------------

/** The containers running `cli/src/main.ts topics ensure <spec>...`, with their specs. */
function topicsEnsureContainers(objects: readonly Obj[]): { job: Obj; container: Obj; specs: string[] }[] {
  const out: { job: Obj; container: Obj; specs: string[] }[] = [];
  for (const job of byKind(objects, 'Job')) {
    for (const container of job.spec?.template?.spec?.containers ?? []) {
      const args: string[] = [...(container.command ?? []), ...(container.args ?? [])].map(String);
      const at = args.indexOf('cli/src/main.ts');
      if (at >= 0 && args[at + 1] === 'topics' && args[at + 2] === 'ensure') out.push({ job, container, specs: args.slice(at + 3) });
    }
  }
  return out;
}

/** Topic → partitions from the topics-init Job's `topics ensure name:partitions[:compact] ...` args. */
export function ensuredTopics(objects: readonly Obj[]): Map<string, number> {
  const topics = new Map<string, number>();
  for (const { specs } of topicsEnsureContainers(objects)) {
    for (const text of specs) {
      try {
        const spec = parseTopicSpec(text);
        topics.set(spec.topic, spec.partitions);
      } catch {
        // reported by jobProblems
      }
    }
  }
  return topics;
}

/** The topics-init Job's arguments and environment as the CLI itself parses them (cli/src). */
export function jobProblems(objects: readonly Obj[]): string[] {
  const problems: string[] = [];
  const jobs = topicsEnsureContainers(objects);
  if (jobs.length !== 1) problems.push(`expected one topics-init Job running cli/src/main.ts topics ensure, found ${jobs.length}`);
  for (const { job, container, specs } of jobs) {
    if (specs.length === 0) problems.push(`${idOf(job)}: no topics to ensure`);
    for (const text of specs) {
      try {
        parseTopicSpec(text);
      } catch (error) {
        problems.push(`${idOf(job)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const { env, problems: refProblems } = containerEnv(objects, container);
    problems.push(...refProblems.map((p) => `${idOf(job)}: ${p}`));
    try {
      loadConnection({}, env);
    } catch (error) {
      problems.push(`${idOf(job)}: the CLI would not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}

/**
 * Partition counts bound useful replicas: no consumer Deployment may scale beyond the partitions of
 * its input topic; the splitter's N equals the sub-stream topic's partitions; the workers' processed
 * partitions equal the input's; the KEDA trigger watches the workers' own group and topic, and its
 * maximum is the sub-stream partition count.
 */
export function topologyProblems(objects: readonly Obj[], configs: ReadonlyMap<string, Obj>): string[] {
  const problems: string[] = [];
  const topics = ensuredTopics(objects);
  if (topics.size === 0) return ['no topics-init Job with `topics ensure name:partitions ...`'];
  const partitions = (topic: string, at: string): number | undefined => {
    const count = topics.get(topic);
    if (count === undefined) problems.push(`${at}: topic ${topic} is not created by the topics-init Job`);
    return count;
  };
  const scales = scaling(objects);
  for (const [name, config] of configs) {
    const at = `Deployment/${name}`;
    const spec = SERVICES[config.service as string] as ServiceSpec;
    const max = (scales.get(name) as Scaling).max;
    for (const topic of spec.inputs(config)) {
      const count = partitions(topic, at);
      if (count !== undefined && max > count) problems.push(`${at}: up to ${max} replicas but its input ${topic} has ${count} partitions (the rest would sit idle)`);
    }
    if (config.service === 'splitter') {
      const count = partitions(config.SPLITTER_SUBSTREAMS_TOPIC, at);
      if (count !== undefined && config.SPLITTER_SUBSTREAMS !== count) problems.push(`${at}: SPLITTER_SUBSTREAMS=${config.SPLITTER_SUBSTREAMS} but ${config.SPLITTER_SUBSTREAMS_TOPIC} has ${count} partitions`);
    }
    if (config.service === 'worker') {
      const processed = partitions(config.WORKER_PROCESSED_TOPIC, at);
      const splitter = [...configs.values()].find((c) => c.service === 'splitter');
      const source = splitter === undefined ? undefined : topics.get(splitter.SPLITTER_INPUT_TOPIC);
      for (const [what, count] of [[config.WORKER_PROCESSED_TOPIC, processed], [splitter?.SPLITTER_INPUT_TOPIC, source]] as const) {
        if (count !== undefined && config.WORKER_PROCESSED_PARTITIONS !== count) problems.push(`${at}: WORKER_PROCESSED_PARTITIONS=${config.WORKER_PROCESSED_PARTITIONS} but ${what} has ${count} partitions`);
      }
      const autoscaler = scales.get(name)?.autoscaler;
      if (autoscaler?.kind === 'ScaledObject') {
        const trigger = (autoscaler.spec?.triggers ?? []).find((t: Obj) => t.type === 'kafka');
        if (!trigger) problems.push(`${idOf(autoscaler)}: no kafka trigger`);
        else {
          const m = trigger.metadata ?? {};
          if (m.consumerGroup !== config.WORKER_GROUP_ID) problems.push(`${idOf(autoscaler)}: consumerGroup ${m.consumerGroup} is not the workers' group ${config.WORKER_GROUP_ID}`);
          if (m.topic !== config.WORKER_INPUT_TOPIC) problems.push(`${idOf(autoscaler)}: topic ${m.topic} is not the workers' input ${config.WORKER_INPUT_TOPIC}`);
          if (!(Number(m.lagThreshold) > 0)) problems.push(`${idOf(autoscaler)}: no lagThreshold`);
          const count = topics.get(config.WORKER_INPUT_TOPIC);
          if (count !== undefined && autoscaler.spec?.maxReplicaCount !== count) problems.push(`${idOf(autoscaler)}: maxReplicaCount ${autoscaler.spec?.maxReplicaCount} is not the ${count} partitions of ${config.WORKER_INPUT_TOPIC}`);
        }
      }
    }
  }
  return problems;
}

/** KAFKA_SASL_MECHANISM (libs/config) → the KEDA Kafka scaler's `sasl` value. */
const KEDA_SASL: Record<string, string> = { plain: 'plaintext', 'scram-sha-256': 'scram_sha256', 'scram-sha-512': 'scram_sha512' };

/** The KEDA Kafka trigger authenticates like the services: same SASL mechanism, TLS when KAFKA_SSL. */
export function kedaAuthProblems(objects: readonly Obj[], configs: ReadonlyMap<string, Obj>): string[] {
  const problems: string[] = [];
  for (const so of byKind(objects, 'ScaledObject')) {
    const config = configs.get(so.spec?.scaleTargetRef?.name);
    if (config === undefined) problems.push(`${idOf(so)}: targets ${so.spec?.scaleTargetRef?.name}, which is not a Convoy Deployment that starts`);
    for (const trigger of so.spec?.triggers ?? []) {
      if (trigger.type !== 'kafka') continue;
      const ref = trigger.authenticationRef?.name;
      const auth = ref === undefined ? undefined : find(objects, 'TriggerAuthentication', ref);
      const params = new Map<string, string>();
      for (const t of auth?.spec?.secretTargetRef ?? []) {
        const secret = find(objects, 'Secret', t.name);
        if (!secret) problems.push(`${idOf(auth as Obj)}: Secret ${t.name} does not exist`);
        else if (!(t.key in secretData(secret))) problems.push(`${idOf(auth as Obj)}: Secret ${t.name} has no key ${t.key}`);
        else params.set(t.parameter, secretData(secret)[t.key] as string);
      }
      if (config === undefined) continue;
      const mechanism = config.KAFKA_SASL_MECHANISM as string | undefined;
      const sasl = params.get('sasl') ?? trigger.metadata?.sasl;
      const expected = mechanism === undefined ? undefined : KEDA_SASL[mechanism];
      if ((sasl === 'none' ? undefined : sasl) !== expected) problems.push(`${idOf(so)}: KEDA sasl ${sasl} does not match KAFKA_SASL_MECHANISM ${mechanism}`);
      const tls = (params.get('tls') ?? trigger.metadata?.tls) === 'enable';
      if (tls !== (config.KAFKA_SSL === true)) problems.push(`${idOf(so)}: KEDA tls ${tls ? 'enabled' : 'disabled'} but KAFKA_SSL=${config.KAFKA_SSL}`);
    }
  }
  return problems;
}

/** Every rule above over one rendered overlay; an empty list means it passes. */
export function allProblems(objects: readonly Obj[]): string[] {
  const { configs, problems } = serviceConfigs(objects);
  return [
    ...objects.flatMap(schemaProblems),
    ...problems,
    ...podProblems(objects, (owner) => configs.get(owner.metadata?.name)?.SHUTDOWN_TIMEOUT_MS as number | undefined),
    ...availabilityProblems(objects, configs),
    ...jobProblems(objects),
    ...topologyProblems(objects, configs),
    ...kedaAuthProblems(objects, configs),
  ];
}
