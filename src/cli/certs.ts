/**
 * `ringkv certs --dir DIR --nodes n1,n2,… [--hosts n1=IP|DNS,…] [--days N] [--force]`: makes
 * the cluster CA and one certificate per node for mutual TLS between nodes (runtime/certs.ts).
 * An existing CA in DIR signs the new node certificates; existing files are kept unless
 * `--force` (which also makes a new CA: certificates it did not sign stop being trusted).
 */
import type { Command } from 'commander';
import { CERT_DAYS_DEFAULT, CERT_DAYS_MAX } from '../config.js';
import { ValidationError } from '../errors.js';
import { CliError, EXIT_CLUSTER, EXIT_USAGE } from './exit-codes.js';
import type { CliIo } from './io.js';
import { integerIn, nonEmpty } from './up-options.js';

interface CertsFlags {
  readonly dir: string;
  readonly nodes: string;
  readonly hosts?: string;
  readonly days: number;
  readonly force?: boolean;
}

export function addCertsCommand(program: Command, io: CliIo): void {
  program
    .command('certs')
    .description('make a cluster CA and a certificate per node for mutual TLS between nodes')
    .requiredOption('--dir <dir>', 'where ca.crt, ca.key, <id>.crt and <id>.key go', nonEmpty)
    .requiredOption('--nodes <ids>', 'comma-separated node ids, e.g. n1,n2,n3', nonEmpty)
    .option('--hosts <list>', 'node=IP or node=DNS name for each node address, e.g. n1=10.0.0.1')
    .option(
      '--days <days>',
      `validity in days (1..${CERT_DAYS_MAX})`,
      integerIn(1, CERT_DAYS_MAX),
      CERT_DAYS_DEFAULT,
    )
    .option('--force', 'overwrite existing files, the CA included')
    .action(async (flags: CertsFlags) => {
      const { createCerts, parseHosts } = await import('../runtime/certs.js');
      const nodes = flags.nodes.split(',').map((id) => id.trim());
      try {
        const hosts = parseHosts(flags.hosts ?? '', nodes);
        const result = await createCerts({
          dir: flags.dir,
          nodes,
          hosts,
          days: flags.days,
          force: flags.force === true,
        });
        if (result.reusedCa) io.out(`signed with the existing CA in ${flags.dir}\n`);
        for (const file of result.files) io.out(`wrote ${file}\n`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new CliError(message, error instanceof ValidationError ? EXIT_USAGE : EXIT_CLUSTER);
      }
    });
}
