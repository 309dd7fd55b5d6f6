/**
 * The cluster's certificates for mutual TLS between nodes: one CA (EC P-256, CA:true,
 * keyCertSign) and, per node, a certificate it signs whose identity is the node id: subject
 * CN=<id> and SAN URI ringkv://node/<id> (the one the transport checks), plus the node's hosts
 * as SAN DNS/IP so clients can verify its HTTP endpoint too; EKU serverAuth + clientAuth.
 *
 * Files in the directory: ca.crt, ca.key, <id>.crt, <id>.key; keys are written 0600. Existing
 * files are never overwritten unless `force`; an existing CA (both files) is reused to sign new
 * node certificates, so nodes can be added to a cluster later.
 *
 * Made with the system `openssl` (1.1.1 or newer) rather than a library: the one pure
 * JavaScript candidate, @peculiar/x509, needs a global Reflect-metadata polyfill (a second
 * dependency that patches a global) to load at all. Each invocation has a timeout; work happens
 * in a private temporary directory that is always removed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERT_DAYS_DEFAULT, CERT_DAYS_MAX, CERT_TOOL_TIMEOUT_MS, NODES_MAX } from '../config.js';
import { ValidationError } from '../errors.js';
import { nodeUri } from '../transport/cert-identity.js';
import type { TlsMaterial } from '../transport/tcp.js';
import { isNodeIdText } from '../util/node-id.js';

export { nodeIdOfCertificate, nodeUri } from '../transport/cert-identity.js';

export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
/** Mode of every private key file: readable by its owner only. */
export const KEY_FILE_MODE = 0o600;
const CERT_FILE_MODE = 0o644;
/** Output of a failed openssl kept in the error, in characters (it never holds key material). */
const TOOL_OUTPUT_CHARS_MAX = 500;

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface CertsPlan {
  readonly dir: string;
  readonly nodes: readonly string[];
  /** SAN hosts (IP or DNS name) per node id; nodes not listed get none. */
  readonly hosts?: ReadonlyMap<string, readonly string[]>;
  /** Validity in days (1..CERT_DAYS_MAX). @default CERT_DAYS_DEFAULT */
  readonly days?: number;
  /** Overwrite existing files, the CA included. @default false */
  readonly force?: boolean;
}

export interface CertsDeps {
  /** The openssl executable. @default 'openssl' (on PATH) */
  readonly openssl?: string;
}

export interface CertsResult {
  /** Files written, as paths. */
  readonly files: readonly string[];
  /** True when an existing CA signed the node certificates. */
  readonly reusedCa: boolean;
}

export const nodeCertFile = (id: string): string => `${id}.crt`;
export const nodeKeyFile = (id: string): string => `${id}.key`;

/** Parses `n1=10.0.0.1,n1=node1.example,n2=…`; every id must be one of `nodes`. */
export function parseHosts(text: string, nodes: readonly string[]): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const item of text.split(',').filter((part) => part.trim() !== '')) {
    const eq = item.indexOf('=');
    const id = item.slice(0, eq).trim();
    const host = item.slice(eq + 1).trim();
    if (eq < 0 || !nodes.includes(id)) {
      throw new ValidationError(
        `--hosts entries are node=host for a node in --nodes, got ${JSON.stringify(item)}`,
      );
    }
    if (isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw new ValidationError(`${JSON.stringify(host)} is neither an IP address nor a DNS name`);
    }
    hosts.set(id, [...(hosts.get(id) ?? []), host]);
  }
  return hosts;
}

/** Checks a plan; throws a ValidationError naming the first problem. */
export function checkPlan(plan: CertsPlan): void {
  if (plan.nodes.length === 0 || plan.nodes.length > NODES_MAX) {
    throw new ValidationError(`give 1..${NODES_MAX} node ids`);
  }
  for (const id of plan.nodes) {
    if (!isNodeIdText(id)) {
      throw new ValidationError(
        `invalid node id ${JSON.stringify(id)}: 1..64 of A-Z a-z 0-9 . _ -`,
      );
    }
  }
  if (new Set(plan.nodes).size !== plan.nodes.length) throw new ValidationError('node ids repeat');
  const days = plan.days ?? CERT_DAYS_DEFAULT;
  if (!Number.isInteger(days) || days < 1 || days > CERT_DAYS_MAX) {
    throw new ValidationError(`days must be an integer in 1..${CERT_DAYS_MAX}`);
  }
  for (const [id, hosts] of plan.hosts ?? []) {
    if (!plan.nodes.includes(id))
      throw new ValidationError(`hosts given for ${id}, not in the node list`);
    for (const host of hosts) {
      if (isIP(host) === 0 && !HOSTNAME.test(host)) {
        throw new ValidationError(
          `${JSON.stringify(host)} is neither an IP address nor a DNS name`,
        );
      }
    }
  }
}

/** Creates the CA (unless one exists and `force` is off) and the node certificates. */
export async function createCerts(plan: CertsPlan, deps: CertsDeps = {}): Promise<CertsResult> {
  checkPlan(plan);
  const force = plan.force === true;
  await mkdir(plan.dir, { recursive: true, mode: 0o700 });
  const caExists = await caFilesPresent(plan.dir);
  const reusedCa = caExists && !force;
  if (!force) await refuseExisting(plan.dir, plan.nodes);
  const work = await mkdtemp(join(tmpdir(), 'ringkv-certs-'));
  try {
    const tool = new OpenSsl(deps.openssl ?? 'openssl', work);
    if (reusedCa) {
      await copyFile(join(plan.dir, CA_CERT_FILE), join(work, CA_CERT_FILE));
      await copyFile(join(plan.dir, CA_KEY_FILE), join(work, CA_KEY_FILE));
    } else {
      await tool.makeCa(plan.days ?? CERT_DAYS_DEFAULT);
    }
    for (const id of plan.nodes) {
      await tool.makeNode(id, plan.hosts?.get(id) ?? [], plan.days ?? CERT_DAYS_DEFAULT);
    }
    const names = [
      ...(reusedCa ? [] : [CA_CERT_FILE, CA_KEY_FILE]),
      ...plan.nodes.flatMap((id) => [nodeCertFile(id), nodeKeyFile(id)]),
    ];
    const files: string[] = [];
    for (const name of names) {
      const target = join(plan.dir, name);
      const mode = name.endsWith('.key') ? KEY_FILE_MODE : CERT_FILE_MODE;
      await writeFile(target, await readFile(join(work, name)), { mode, flag: force ? 'w' : 'wx' });
      await chmod(target, mode); // an overwritten file keeps its old mode otherwise
      files.push(target);
    }
    return { files, reusedCa };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Reads a node's TLS material from a directory made by createCerts. */
export async function loadNodeTls(dir: string, id: string): Promise<TlsMaterial> {
  if (!isNodeIdText(id)) throw new ValidationError(`invalid node id ${JSON.stringify(id)}`);
  const [ca, cert, key] = await Promise.all([
    readFile(join(dir, CA_CERT_FILE)),
    readFile(join(dir, nodeCertFile(id))),
    readFile(join(dir, nodeKeyFile(id))),
  ]);
  return { ca, cert, key };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function caFilesPresent(dir: string): Promise<boolean> {
  const [cert, key] = await Promise.all([
    exists(join(dir, CA_CERT_FILE)),
    exists(join(dir, CA_KEY_FILE)),
  ]);
  if (cert !== key) {
    throw new ValidationError(
      `${dir} holds only one of ${CA_CERT_FILE} and ${CA_KEY_FILE}; use --force to make a new CA`,
    );
  }
  return cert;
}

async function refuseExisting(dir: string, nodes: readonly string[]): Promise<void> {
  const names = nodes.flatMap((id) => [nodeCertFile(id), nodeKeyFile(id)]);
  const present: string[] = [];
  for (const name of names) if (await exists(join(dir, name))) present.push(name);
  if (present.length > 0) {
    throw new ValidationError(
      `${dir} already holds ${present.join(', ')}; use --force to overwrite`,
    );
  }
}

/** The openssl invocations, each in the private work directory, each with a timeout. */
class OpenSsl {
  constructor(
    private readonly executable: string,
    private readonly work: string,
  ) {}

  async makeCa(days: number): Promise<void> {
    const label = randomBytes(4).toString('hex'); // distinct CAs get distinct names
    await this.file('ca.cnf', [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ringkv cluster CA ${label}`,
      '[v3_ca]',
      'basicConstraints = critical, CA:true, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ]);
    await this.makeKey(CA_KEY_FILE);
    await this.run([
      'req',
      '-x509',
      '-new',
      '-sha256',
      '-key',
      CA_KEY_FILE,
      '-config',
      'ca.cnf',
      '-extensions',
      'v3_ca',
      '-days',
      String(days),
      '-set_serial',
      serial(),
      '-out',
      CA_CERT_FILE,
    ]);
  }

  /** A new EC P-256 private key (the CA's and every node's) in `file`. */
  private async makeKey(file: string): Promise<void> {
    await this.run([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      file,
    ]);
  }

  async makeNode(id: string, hosts: readonly string[], days: number): Promise<void> {
    const san = [
      `URI:${nodeUri(id)}`,
      ...hosts.map((h) => (isIP(h) === 0 ? `DNS:${h}` : `IP:${h}`)),
    ];
    await this.file(`${id}.cnf`, [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${id}`,
      '[v3_node]',
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = ${san.join(', ')}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ]);
    const key = nodeKeyFile(id);
    await this.makeKey(key);
    await this.run([
      'req',
      '-new',
      '-sha256',
      '-key',
      key,
      '-config',
      `${id}.cnf`,
      '-out',
      `${id}.csr`,
    ]);
    await this.run([
      'x509',
      '-req',
      '-sha256',
      '-in',
      `${id}.csr`,
      '-CA',
      CA_CERT_FILE,
      '-CAkey',
      CA_KEY_FILE,
      '-set_serial',
      serial(),
      '-days',
      String(days),
      '-extfile',
      `${id}.cnf`,
      '-extensions',
      'v3_node',
      '-out',
      nodeCertFile(id),
    ]);
  }

  private async file(name: string, lines: readonly string[]): Promise<void> {
    await writeFile(join(this.work, name), `${lines.join('\n')}\n`, { mode: 0o600 });
  }

  private run(args: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        this.executable,
        args,
        {
          cwd: this.work,
          timeout: CERT_TOOL_TIMEOUT_MS,
          maxBuffer: 1024 * 1024,
          windowsHide: true,
        },
        (error, _stdout, stderr) => {
          if (error === null) return resolve();
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          const detail = missing
            ? `${this.executable} was not found: install OpenSSL 1.1.1 or newer`
            : `${this.executable} ${args[0]} failed: ${String(stderr).trim().slice(0, TOOL_OUTPUT_CHARS_MAX)}`;
          reject(new Error(detail));
        },
      );
    });
  }
}

/** A random positive 127-bit serial, as openssl's hex syntax. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}
