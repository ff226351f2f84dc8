/** The `tengri` command line. */
import { Command, InvalidArgumentError } from 'commander';
import { version } from '../api/app.ts';
import { accountsInMemoryDefault, recordsInMemoryMax, transfersInMemoryDefault } from '../limits.ts';
import { readFileSync } from 'node:fs';
import { findDuplicateKey } from '../api/json-duplicates.ts';
import { backup } from './backup.ts';
import { keygen, signPaymentText } from './keys.ts';
import { relay } from './relay.ts';
import { start } from './start.ts';
import { verify } from './verify.ts';

function integer(minimum: number, maximum: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
    const parsed = Number(value);
    if (parsed < minimum || parsed > maximum) throw new InvalidArgumentError(`must be from ${minimum} to ${maximum}`);
    return parsed;
  };
}

const program = new Command().name('tengri').description('Tengri retail CBDC platform').version(version);

program
  .command('start')
  .description('start the platform: ledger engine and HTTP API on the embedded SQLite store, or on PostgreSQL with --db')
  .option('--data <dir>', 'data directory', './.tengri')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8080)
  .option('--batch-max <n>', 'most commands per committed batch', integer(1, 65536), 8190)
  .option('--batch-wait-ms <ms>', 'longest wait for a batch to fill', integer(0, 1000), 1)
  .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info')
  .option('--transfers-max <n>', `transfers held before new ones are refused with ledger_full (default: what fits in the heap, at most ${transfersInMemoryDefault})`, integer(1, recordsInMemoryMax))
  .option('--accounts-max <n>', `accounts held before new ones are refused with ledger_full (default: what fits in the heap, at most ${accountsInMemoryDefault})`, integer(1, recordsInMemoryMax))
  .option('--db <url>', 'keep the journal in PostgreSQL (postgres://user@host:port/db) instead of SQLite in the data directory; several processes may share it: one leads (writes), the others serve reads, forward writes to it and take over when it dies')
  .option('--db-schema <name>', 'PostgreSQL schema of the ledger', 'tengri')
  .option('--advertise <url>', 'the URL other processes use to reach this one, to forward writes to it when it leads (default: the address it listens on)')
  .option('--follow', 'with --db: never lead; only serve reads and forward writes (a stateless API process)')
  .option('--nats <url>', 'publish every event to NATS JetStream (stream TENGRI_EVENTS, subject tengri.events.<bank>) from the outbox, while this process writes')
  .option('--seed <network>', 'create a demonstration network on a ledger that has no banks yet: "pilot" (credentials go to <data>/pilot-credentials.json)')
  .action(async (options: { data: string; host: string; port: number; batchMax: number; batchWaitMs: number; logLevel: string; transfersMax?: number; accountsMax?: number; seed?: string; db?: string; dbSchema?: string; advertise?: string; follow?: boolean; nats?: string }) => {
    if (options.seed !== undefined && options.seed !== 'pilot') throw new InvalidArgumentError(`--seed: unknown network ${options.seed}; the only one is pilot`);
    await start(options);
  });

program
  .command('relay')
  .description("publish the ledger's events from its outbox to NATS JetStream, at least once, resuming where it stopped (runs beside tengri start)")
  .requiredOption('--nats <url>', 'NATS server URL, e.g. nats://127.0.0.1:4222')
  .option('--data <dir>', 'data directory of a SQLite ledger', './.tengri')
  .option('--db <url>', 'the PostgreSQL ledger instead')
  .option('--db-schema <name>', 'PostgreSQL schema of the ledger', 'tengri')
  .option('--stream <name>', 'JetStream stream (created if missing)', 'TENGRI_EVENTS')
  .option('--subject-prefix <prefix>', 'subjects are <prefix>.<bank>', 'tengri.events')
  .option('--name <name>', 'name under which the position is saved in the ledger', 'nats')
  .action(async (options: { nats: string; data: string; db?: string; dbSchema: string; stream: string; subjectPrefix: string; name: string }) => {
    await relay(options);
  });

program
  .command('keygen')
  .description("make a wallet key pair (Ed25519): prints it as JSON, or writes it to a new file (mode 0600) with --out")
  .option('--out <file>', 'write the key pair to this new file and print only the public key')
  .action((options: { out?: string }) => {
    const key = keygen(options.out);
    process.stdout.write(options.out === undefined ? `${JSON.stringify(key, null, 2)}\n` : `${key.publicKey}\n`);
  });

program
  .command('sign')
  .description("sign a payment: reads its JSON (a file, or - for standard input) and prints it with its signature")
  .requiredOption('--key <file>', 'key file made by tengri keygen --out')
  .argument('[payment]', 'payment JSON file, or - for standard input', '-')
  .action((payment: string, options: { key: string }) => {
    const text = readFileSync(payment === '-' ? 0 : payment, 'utf8');
    JSON.parse(text);
    const duplicate = findDuplicateKey(text);
    if (duplicate !== null) throw new Error(`the payment has the key ${JSON.stringify(duplicate)} twice`);
    process.stdout.write(`${JSON.stringify(signPaymentText(text, options.key))}\n`);
  });

program
  .command('verify')
  .description("re-check the journal's hash chain and every invariant offline; exit 1 on any fault")
  .option('--data <dir>', 'data directory', './.tengri')
  .option('--json', 'print the report as JSON')
  .option('--db <url>', 'verify the ledger kept in PostgreSQL instead (safe while it is being written)')
  .option('--db-schema <name>', 'PostgreSQL schema of the ledger', 'tengri')
  .action(async (options: { data: string; json?: boolean; db?: string; dbSchema: string }) => {
    const report = await verify(options.data, options.db === undefined ? undefined : { url: options.db, schema: options.dbSchema });
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else if (report.ok) {
      process.stdout.write(
        `ok: ${report.batches} batches, ${report.commands} commands, ${report.accounts} accounts, ${report.transfers} transfers, ${report.banks} banks, ${report.wallets} wallets\n` +
          `head ${report.head}\nstate ${report.stateDigest}\n` +
          report.supply.map((s) => `${s.asset} in circulation: ${s.inCirculation}\n`).join(''),
      );
    } else {
      process.stderr.write(`FAULT: ${report.error}\n`);
    }
    process.exitCode = report.ok ? 0 : 1;
  });

program
  .command('backup')
  .description('copy the journal into a new data directory while the server runs (SQLite online backup)')
  .option('--data <dir>', 'data directory to copy', './.tengri')
  .requiredOption('--to <dir>', 'new data directory to write the copy into')
  .action(async (options: { data: string; to: string }) => {
    const report = await backup(options.data, options.to);
    process.stdout.write(`backed up ${report.batches} journal batches (${report.pages} pages) to ${report.target}\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`tengri: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
