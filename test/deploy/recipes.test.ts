/**
 * The container recipes under deploy/ are never built or run here (no container engine, no
 * Kubernetes), so this test holds them to what can be checked statically: every file parses,
 * every `ringkv node` / `ringkv certs` command they run uses only flags the real `--help` lists,
 * with values the real parsers accept, and the ports, volumes and mounts they name agree.
 *
 * Which multi-process test runs each command shape:
 * - `ringkv node --id --listen --http --data-dir --initial-cluster --tls-dir`: nodeArgs() in
 *   test/integration/process/helpers.ts, run by tls.test.ts, kill-restart.test.ts and
 *   remote-client.test.ts (with `--insecure` instead of `--tls-dir`: node-process.test.ts).
 * - `ringkv certs --dir --nodes --hosts`: test/integration/process/https.test.ts.
 * - `--listen 0.0.0.0:…`, `--advertise NAME:…` and host names in `--initial-cluster`:
 *   test/integration/process/addresses.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { parseHostPort, parseInitialCluster } from '../../src/runtime/node-identity.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const PEER_PORT = 7000;
const HTTP_PORT = 8000;
const DATA_DIR = '/data';
const TLS_DIR = '/tls';
/** Flags every container start must give (the node refuses to start without them). */
const REQUIRED = ['--id', '--listen', '--http', '--data-dir', '--initial-cluster', '--tls-dir'];

/** The long options `ringkv <command> --help` lists, and whether each takes a value. */
function helpFlags(command: 'node' | 'certs'): Map<string, boolean> {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/ringkv.mjs'), command, '--help'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const flags = new Map<string, boolean>();
  for (const match of run.stdout.matchAll(/^ {1,4}(?:-\w, )?(--[a-z][a-z-]*)( <[^>]+>)?/gm)) {
    flags.set(match[1] as string, match[2] !== undefined);
  }
  expect(flags.size).toBeGreaterThan(3);
  return flags;
}

const NODE_FLAGS = helpFlags('node');
const CERTS_FLAGS = helpFlags('certs');

/** `--flag value` pairs and bare switches; throws on a flag `--help` does not list. */
function parseArgs(args: readonly string[], known: Map<string, boolean>): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] as string;
    if (!known.has(flag)) throw new Error(`${flag} is not an option of --help (${args.join(' ')})`);
    if (out.has(flag)) throw new Error(`${flag} given twice`);
    if (known.get(flag) === true) {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
      out.set(flag, value);
    } else {
      out.set(flag, '');
    }
  }
  return out;
}

/** Checks one `ringkv node` argument list and returns its options. */
function checkNode(args: readonly string[], substitute: (s: string) => string = (s) => s) {
  const options = parseArgs(args, NODE_FLAGS);
  for (const flag of REQUIRED) expect(options.has(flag), `${flag} in ${args.join(' ')}`).toBe(true);
  const get = (flag: string) => substitute(options.get(flag) as string);
  const listen = parseHostPort(get('--listen'), '--listen');
  const http = parseHostPort(get('--http'), '--http');
  const advertise = parseHostPort(get('--advertise'), '--advertise');
  const cluster = parseInitialCluster(get('--initial-cluster'));
  expect(listen).toEqual({ host: '0.0.0.0', port: PEER_PORT });
  expect(http).toEqual({ host: '0.0.0.0', port: HTTP_PORT });
  expect(get('--data-dir')).toBe(DATA_DIR);
  expect(get('--tls-dir')).toBe(TLS_DIR);
  // Peers dial what --initial-cluster says; this node must be there under its advertised name.
  expect(cluster.get(get('--id'))).toEqual(advertise);
  return { id: get('--id'), cluster };
}

/** Every `ringkv certs …` command written in `text` (comments, code blocks), as arguments. */
function certsCommands(text: string): string[][] {
  return [...text.matchAll(/ringkv certs ([^\n`]*)/g)].map((m) =>
    (m[1] as string).trim().split(/\s+/),
  );
}

/** Checks a certs command against the cluster it is meant for. */
function checkCerts(args: readonly string[], cluster: ReadonlyMap<string, { host: string }>) {
  const options = parseArgs(args, CERTS_FLAGS);
  expect(options.get('--dir')).toBe('./tls');
  expect((options.get('--nodes') as string).split(',').sort()).toEqual([...cluster.keys()].sort());
  const hosts = new Map(
    (options.get('--hosts') as string)
      .split(',')
      .map((pair) => pair.split('=') as [string, string]),
  );
  for (const [id, address] of cluster) expect(hosts.get(id), id).toBe(address.host);
}

interface Instruction {
  readonly op: string;
  readonly rest: string;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
function dockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, op, rest] = /^\s*(\w+)\s+(.*)$/.exec(line) ?? [];
      if (op === undefined || rest === undefined) throw new Error(`not an instruction: ${line}`);
      return { op: op.toUpperCase(), rest: rest.trim() };
    });
}

const DOCKERFILE = dockerfile(read('deploy/Dockerfile'));
const only = (op: string) => DOCKERFILE.filter((i) => i.op === op);
const ENTRYPOINT = JSON.parse(only('ENTRYPOINT').at(-1)?.rest ?? 'null') as string[];

describe('deploy/Dockerfile', () => {
  it('builds from node:20-slim and packs with npm, installing production dependencies only', () => {
    const from = only('FROM').map((i) => i.rest.split(/\s+/)[0]);
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const image of from) expect(image).toBe('node:20-slim');
    const runs = only('RUN').map((i) => i.rest);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm pack\b/.test(r))).toBe(true);
    expect(runs.some((r) => /npm install .*--omit=dev/.test(r))).toBe(true);
  });

  it('runs `ringkv node` as a non-root user, data under a volume, peer and HTTP ports exposed', () => {
    const user = only('USER').at(-1)?.rest;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    expect(ENTRYPOINT).toEqual(['ringkv', 'node']);
    const cmd = JSON.parse(only('CMD').at(-1)?.rest ?? '[]') as string[];
    parseArgs(cmd, NODE_FLAGS);
    expect(only('VOLUME').map((i) => i.rest)).toContain(DATA_DIR);
    const exposed = only('EXPOSE').flatMap((i) => i.rest.split(/\s+/).map(Number));
    expect(exposed.sort()).toEqual([PEER_PORT, HTTP_PORT]);
  });

  it('checks health on /health of the HTTP port with node itself (no curl in slim)', () => {
    const check = only('HEALTHCHECK').at(-1)?.rest ?? '';
    const command = JSON.parse(check.slice(check.indexOf('CMD') + 3)) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain(`http://127.0.0.1:${HTTP_PORT}/health`);
    expect(command[2]).toContain('AbortSignal.timeout(');
  });
});

describe('deploy/compose.yaml', () => {
  const doc = parseDocument(read('deploy/compose.yaml'), { merge: true });
  const compose = doc.toJS() as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };

  it('is well-formed YAML with three services n1..n3', () => {
    expect(doc.errors).toEqual([]);
    expect(Object.keys(compose.services).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('runs each node with known flags, its own volume, the certificates read-only', () => {
    const clusters: string[] = [];
    const published = new Set<string>();
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.entrypoint, 'the image entrypoint (ringkv node) is kept').toBeUndefined();
      expect(service.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      const { id, cluster } = checkNode(service.command as string[]);
      expect(id).toBe(name);
      // Peers reach each other by service name on the compose network.
      for (const [peer, address] of cluster) {
        expect(address).toEqual({ host: peer, port: PEER_PORT });
        expect(compose.services[peer]).toBeDefined();
      }
      clusters.push(JSON.stringify([...cluster]));
      const volumes = service.volumes as string[];
      expect(volumes).toContain(`${name}-data:${DATA_DIR}`);
      expect(compose.volumes).toHaveProperty(`${name}-data`);
      expect(volumes).toContain(`../tls:${TLS_DIR}:ro`);
      const ports = service.ports as string[];
      expect(ports).toHaveLength(1);
      const [, hostPort, containerPort] =
        /^(?:[\d.]+:)?(\d+):(\d+)$/.exec(ports[0] as string) ?? [];
      expect(Number(containerPort)).toBe(HTTP_PORT);
      published.add(hostPort as string);
      const health = (service.healthcheck as { test: string[] }).test;
      expect(health.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      expect(health[3]).toContain(`http://127.0.0.1:${HTTP_PORT}/health`);
    }
    expect(new Set(clusters).size, 'every node is given the same --initial-cluster').toBe(1);
    expect(published.size, 'each node publishes its own host port').toBe(3);
  });

  it('names the certs command that makes ../tls for exactly these nodes', () => {
    const commands = certsCommands(read('deploy/compose.yaml'));
    expect(commands).toHaveLength(1);
    const n1 = compose.services.n1 as { command: string[] };
    checkCerts(commands[0] as string[], checkNode(n1.command).cluster);
  });
});

describe('deploy/k8s/ringkv.yaml', () => {
  const docs = parseAllDocuments(read('deploy/k8s/ringkv.yaml'));
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects, checked field by field below
  const objects = docs.map((d) => d.toJS() as any);
  const byKind = (kind: string) => {
    const found = objects.filter((o) => o?.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0];
  };
  const service = byKind('Service');
  const set = byKind('StatefulSet');
  const budget = byKind('PodDisruptionBudget');
  const pod = set.spec.template.spec;
  const container = pod.containers[0];

  it('is well-formed YAML: a headless Service, a StatefulSet and a PodDisruptionBudget', () => {
    for (const d of docs) expect(d.errors).toEqual([]);
    expect(objects).toHaveLength(3);
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    expect(set.spec.serviceName).toBe(service.metadata.name);
    expect(budget.apiVersion).toBe('policy/v1');
    expect(budget.spec.maxUnavailable).toBe(1);
  });

  it('selects the same pods everywhere', () => {
    const labels = set.spec.template.metadata.labels;
    for (const selector of [
      service.spec.selector,
      set.spec.selector.matchLabels,
      budget.spec.selector.matchLabels,
    ]) {
      expect(Object.keys(selector).length).toBeGreaterThan(0);
      expect(labels).toMatchObject(selector);
    }
    const namespaces = new Set(objects.map((o) => o.metadata.namespace));
    expect(namespaces.size).toBe(1);
  });

  it('runs `ringkv node` with the stable DNS names, its Secret as --tls-dir, data on a PVC', () => {
    expect(container.command, 'the image entrypoint (ringkv node) is kept').toBeUndefined();
    const namespace = set.metadata.namespace;
    const dns = (pod: string) => `${pod}.${service.metadata.name}.${namespace}.svc.cluster.local`;
    const podName = `${set.metadata.name}-1`;
    const env = new Map(
      container.env.map((e: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }) => [
        e.name,
        e.valueFrom?.fieldRef?.fieldPath,
      ]),
    );
    // Kubernetes expands $(VAR) in args from the container's env; play pod 1.
    const substitute = (text: string) =>
      text.replace(/\$\((\w+)\)/g, (_, name: string) => {
        expect(env.get(name), `env ${name}`).toBe('metadata.name');
        return podName;
      });
    const { id, cluster } = checkNode(container.args, substitute);
    expect(id).toBe(podName);
    const pods = Array.from({ length: set.spec.replicas }, (_, i) => `${set.metadata.name}-${i}`);
    expect([...cluster.keys()]).toEqual(pods);
    for (const [peer, address] of cluster)
      expect(address).toEqual({ host: dns(peer), port: PEER_PORT });

    const ports = new Map(
      container.ports.map((p: { name: string; containerPort: number }) => [
        p.name,
        p.containerPort,
      ]),
    );
    expect(ports).toEqual(
      new Map([
        ['peer', PEER_PORT],
        ['http', HTTP_PORT],
      ]),
    );
    for (const p of service.spec.ports) expect(ports.get(p.targetPort)).toBe(p.port);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/health', port: 'http' });
    }

    type Mount = { name: string; mountPath: string; readOnly?: boolean };
    const mounts = new Map<string, Mount>(
      container.volumeMounts.map((m: Mount) => [m.mountPath, m]),
    );
    const tls = mounts.get(TLS_DIR);
    expect(tls, `a volumeMount at --tls-dir ${TLS_DIR}`).toBeDefined();
    expect(tls?.readOnly).toBe(true);
    const secret = pod.volumes.find((v: { name: string }) => v.name === tls?.name).secret;
    expect(secret.secretName).toBe('ringkv-tls');
    expect(secret.defaultMode).toBe(0o440);
    const data = mounts.get(DATA_DIR);
    expect(data, `a volumeMount at --data-dir ${DATA_DIR}`).toBeDefined();
    const claims = set.spec.volumeClaimTemplates.map(
      (c: { metadata: { name: string } }) => c.metadata.name,
    );
    expect(claims).toContain(data?.name);

    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).not.toBe(0);
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
  });

  it('names the certs command for exactly these pods, and keeps ca.key out of the Secret', () => {
    const text = read('deploy/k8s/ringkv.yaml');
    const commands = certsCommands(text);
    expect(commands).toHaveLength(1);
    const cluster = parseInitialCluster(
      container.args[container.args.indexOf('--initial-cluster') + 1],
    );
    checkCerts(commands[0] as string[], cluster);
    expect(text).toContain('kubectl create secret generic ringkv-tls');
    expect(text).not.toMatch(/--from-file=\S*ca\.key/);
  });
});

describe('README "Run on several machines"', () => {
  const readme = read('README.md');
  const start = readme.indexOf('## Run on several machines');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  it('uses only flags `ringkv node --help` and `ringkv certs --help` list', () => {
    expect(start).toBeGreaterThan(-1);
    const nodes = [...section.matchAll(/ringkv node ([^\n`]*)/g)].map((m) =>
      (m[1] as string).trim().split(/\s+/),
    );
    expect(nodes.length).toBeGreaterThan(0);
    for (const args of nodes) parseArgs(args, NODE_FLAGS);
    const certs = certsCommands(section);
    expect(certs.length).toBeGreaterThan(0);
    for (const args of certs) parseArgs(args, CERTS_FLAGS);
    expect(section).toMatch(/not built (or run )?in CI/);
  });
});
