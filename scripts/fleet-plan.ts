// The pure part of `pnpm start`: docker-compose.yml → the processes to run on this machine, each
// with the environment compose gives its container, container addresses rewritten to the local
// stack's, and its own HTTP port. No I/O: the caller reads the file and passes the environment.
import { parse } from 'yaml';

/** A Convoy container of the compose file, as a local process. */
export interface PlannedProcess {
  /** The compose service name (`worker-2`). */
  name: string;
  /** `node <script> ...args`, relative to the repository root (the image's working directory). */
  script: string;
  args: string[];
  /** The container's environment after interpolation and address rewriting; HTTP_PORT included. */
  env: Record<string, string>;
  /** `service` runs until stopped; `one-shot` must exit 0 before the services start (topic-init). */
  kind: 'service' | 'one-shot';
  /** The HTTP port (/metrics, /healthz) of a service; undefined for a one-shot. */
  port: number | undefined;
}

export interface PlanOptions {
  /** The environment used for `${VAR:-default}` interpolation, as compose does. */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** Local replacements for container addresses, e.g. `{ 'kafka:9092': '127.0.0.1:9092' }`. */
  addresses: Readonly<Record<string, string>>;
  /** Fixed ports by service name; the rest get `nextPort`, `nextPort + 1`, ... in file order. */
  ports?: Readonly<Record<string, number>>;
  nextPort?: number;
  /** Keep each container's own HTTP_PORT (the view from inside the containers, for checks). */
  keepPorts?: boolean;
  /** The image every Convoy container runs (others — kafka, registry, prometheus — are skipped). */
  image?: string;
}

/** The compose file's own port layout for `pnpm start`, kept from the first fleet launcher. */
export const FLEET_PORTS: Readonly<Record<string, number>> = {
  splitter: 9500,
  merger: 9509,
  'worker-1': 9510,
  'worker-2': 9511,
  'worker-3': 9512,
  'worker-4': 9513,
};

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Compose's variable interpolation: `${VAR}`, `$VAR`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (throws), `$$` = `$`.
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(VARIABLE, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = env[name];
    const missing = op?.startsWith(':') === true ? value === undefined || value === '' : value === undefined;
    if (op === undefined || !missing) return value ?? '';
    if (op.endsWith('?')) throw new Error(`docker-compose.yml: ${name} is required: ${arg ?? ''}`);
    return interpolate(arg ?? '', env);
  });
}

function asStrings(value: unknown, where: string): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter((part) => part !== '');
  if (Array.isArray(value) && value.every((part) => typeof part === 'string' || typeof part === 'number')) return value.map(String);
  throw new Error(`${where}: expected a string or a list of strings`);
}

function environmentOf(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.map((entry) => {
        const text = String(entry);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      }),
    );
  }
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, v]) => [key, v === null ? '' : String(v)]));
  }
  throw new Error(`${where}: expected a map or a list`);
}

/** Every container address the value names, replaced by its local one (longest first). */
function rewrite(value: string, addresses: Readonly<Record<string, string>>): string {
  let out = value;
  for (const from of Object.keys(addresses).sort((a, b) => b.length - a.length)) out = out.split(from).join(addresses[from] as string);
  return out;
}

/**
 * The Convoy containers of a compose file, in file order, as local processes. A service with a
 * `profiles` key is left out (compose does not start it by default either); so is every service
 * whose image is not `image`. A container whose `restart` is "no" is a one-shot when its command
 * runs the CLI (`cli/src/main.ts`), else a service that may finish (the demo producer with a count).
 */
export function planFleet(composeText: string, options: PlanOptions): PlannedProcess[] {
  const doc = parse(composeText, { merge: true }) as { services?: Record<string, Record<string, unknown>> } | null;
  const services = doc?.services;
  if (services === undefined || services === null || typeof services !== 'object') throw new Error('docker-compose.yml: no services');
  const image = options.image ?? 'convoy:dev';
  const ports = options.ports ?? FLEET_PORTS;
  const used = new Set(Object.values(ports));
  let next = options.nextPort ?? 9520;
  const plan: PlannedProcess[] = [];
  for (const [name, service] of Object.entries(services)) {
    if (service.image !== image || service.profiles !== undefined) continue;
    const where = `docker-compose.yml services.${name}`;
    const [script, ...args] = asStrings(service.command, `${where}.command`).map((part) => interpolate(part, options.hostEnv));
    if (script === undefined) throw new Error(`${where}.command is empty`);
    const kind = script.startsWith('cli/') ? 'one-shot' : 'service';
    const env = Object.fromEntries(
      Object.entries(environmentOf(service.environment, `${where}.environment`)).map(([key, value]) => [key, rewrite(interpolate(value, options.hostEnv), options.addresses)]),
    );
    let port: number | undefined;
    if (kind === 'service' && options.keepPorts === true) {
      port = Number(env['HTTP_PORT'] ?? 9464);
    } else if (kind === 'service') {
      port = ports[name];
      if (port === undefined) {
        while (used.has(next)) next++;
        port = next++;
      }
      used.add(port);
      env['HTTP_PORT'] = String(port);
    } else {
      delete env['HTTP_PORT'];
    }
    plan.push({ name, script, args, env, kind, port });
  }
  return plan;
}

const CONVOY_NAME = /(^|[\s,=:/])convoy([.-])/g;

/** `convoy.input` → `<ns>.input`, `convoy-merger` → `<ns>-merger`, inside lists and specs too. */
export function namespaced(text: string, ns: string): string {
  return text.replace(CONVOY_NAME, (_all, before: string, sep: string) => `${before}${ns}${sep}`);
}

/**
 * A whole fleet under another name on a shared cluster (FLEET_NAMESPACE): every topic, consumer
 * group and transactional id that starts with `convoy` is renamed, both those the compose file
 * sets and the service's own defaults (`defaults`: the string defaults of its config schema).
 * Names derived from them (a changelog from the group id, a state topic from a topic) follow.
 */
export function namespaceProcess(p: PlannedProcess, defaults: Readonly<Record<string, string>>, ns: string): PlannedProcess {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(defaults)) if (/^convoy[.-]/.test(value)) env[key] = namespaced(value, ns);
  for (const [key, value] of Object.entries(p.env)) env[key] = namespaced(value, ns);
  return { ...p, env, args: p.args.map((arg) => namespaced(arg, ns)) };
}
