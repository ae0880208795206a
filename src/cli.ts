// The `settle` command: start, migrate, doctor, and each module's commands (admin, ledger,
// dev, reconcile). Every command has --help; an error prints one line and exits non-zero.
import { sql } from 'kysely';
import { ConfigError, type Config } from './config.ts';
import { configFromEnv, ROLES, runForever, type Role } from './main.ts';
import { migrateToLatest, pendingMigrations } from './db/migrate.ts';
import { describeDb, openConfiguredDb, type CliContext } from './db/configured-db.ts';
import { CliError, checkFlags, commandHelp, findCommand, overviewHelp, parseArgs, type CliIo, type Command } from './shared/cli-kit.ts';
import { ledgerCommands } from './ledger/ledger-cli.ts';
import { accountsCommands } from './accounts/accounts-cli.ts';
import { reconcileCommands } from './payments/custody/reconcile-cli.ts';
import { chainCommands, chainDoctorCheck } from './chain/chain-cli.ts';
import { scannerNextBlock } from './payments/deposits/deposit-store.ts';
import { fundingCommands } from './payments/custody/funding-cli.ts';
import { assetsFromChains } from './payments/payment-rules.ts';
import { backupCommands } from './db/backup-cli.ts';

const core: Array<Command<CliContext>> = [
  {
    path: ['start'],
    summary: 'start the API, web app and workers (applies migrations first)',
    usage: 'settle start [--role api|worker|all]',
    flags: { role: 'api: HTTP only, no background work; worker: jobs and loops, only /healthz /readyz /metrics; all (default): both' },
    async run(args, _io, ctx) {
      const role = args.flags.role ?? 'all';
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
      await runForever(ctx.config(), role as Role);
      return -1; // keeps running; the signal handler exits
    },
  },
  {
    path: ['migrate'],
    summary: 'apply database migrations and exit',
    usage: 'settle migrate',
    async run(_args, io, ctx) {
      const config = ctx.config();
      const db = ctx.openDb();
      try {
        const applied = await migrateToLatest(db);
        io.out(applied.length ? `applied ${applied.length} migration(s) to ${describeDb(config)}: ${applied.join(', ')}` : `${describeDb(config)} is up to date`);
        return 0;
      } finally {
        await db.close();
      }
    },
  },
  {
    path: ['doctor'],
    summary: 'check configuration, database and chains',
    usage: 'settle doctor',
    async run(_args, io, ctx) {
      const config = ctx.config();
      io.out(`ok   configuration${config.config_path ? ` (${config.config_path})` : ' (defaults)'}`);
      for (const asset of assetsFromChains(config.chains)) {
        if (asset.usd_price === null) io.out(`note ${asset.code} (chain ${asset.chain_id}) has no usd_price: KYC amount limits do not apply to it, only review_above (set usd_price in ${config.config_path ?? 'settle.config.json'})`);
      }
      const db = ctx.openDb();
      let failures = 0;
      try {
        await sql`select 1`.execute(db.kysely);
        io.out(`ok   database ${describeDb(config)}`);
        const pending = await pendingMigrations(db);
        if (pending.length) {
          failures++;
          io.out(`FAIL migrations: ${pending.length} not applied (run: settle migrate)`);
        } else io.out('ok   migrations current');
      } catch (error) {
        failures++;
        io.out(`FAIL database ${describeDb(config)}: ${(error as Error).message}`);
      } finally {
        await db.close();
      }
      for (const check of doctorChecks) failures += await check(ctx, io);
      return failures ? 1 : 0;
    },
  },
];

/** Extra doctor checks contributed by modules (chains …); each returns its failure count. */
export const doctorChecks: Array<(ctx: CliContext, io: CliIo) => Promise<number>> = [chainDoctorCheck(scannerNextBlock)];

export const COMMANDS: Array<Command<CliContext>> = [...core, ...ledgerCommands, ...accountsCommands, ...chainCommands, ...reconcileCommands, ...fundingCommands, ...backupCommands];

/**
 * The context every command gets: the configuration from the environment (main.ts reads it, once,
 * when a command first asks) and the database it names.
 */
export function envContext(): CliContext {
  let config: Config | null = null;
  const ctx: CliContext = {
    config: () => (config ??= configFromEnv()),
    openDb: () => openConfiguredDb(ctx.config()),
  };
  return ctx;
}

/** main(['migrate']) -> exit code */
export async function main(argv: string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }, ctx: CliContext = envContext()): Promise<number> {
  const args = parseArgs(argv);
  if (args.positionals.length === 0) {
    io.out(overviewHelp(COMMANDS));
    return args.flags.help ? 0 : 2;
  }
  const found = findCommand(COMMANDS, args.positionals);
  if (!found) {
    const group = COMMANDS.filter((c) => c.path[0] === args.positionals[0]);
    if (group.length && args.positionals.length === 1) {
      io.out(overviewHelp(COMMANDS, [args.positionals[0]!]));
      return args.flags.help ? 0 : 2;
    }
    io.err(`settle: unknown command "${args.positionals.join(' ')}" (run settle --help)`);
    return 2;
  }
  if (args.flags.help) {
    io.out(commandHelp(found.cmd));
    return 0;
  }
  try {
    checkFlags(found.cmd, args, found.rest);
    const code = await found.cmd.run({ positionals: found.rest, flags: args.flags }, io, ctx);
    return code < 0 ? 0 : code;
  } catch (error) {
    if (error instanceof CliError || error instanceof ConfigError) {
      io.err(`settle: ${error.message}`);
      return 2;
    }
    io.err(`settle: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}
