// A small command framework for `settle`: each command declares its usage, flags and handler;
// `--help` works everywhere; errors print one line and exit non-zero. A command gets what it needs
// from the outside (configuration, database) through the context `Ctx` that cli.ts builds, so that
// no module reaches for main.ts.

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | true>;
}

export interface Command<Ctx = unknown> {
  /** Words that select it, e.g. ['admin', 'create']. */
  path: string[];
  summary: string;
  usage: string;
  /** Positional arguments after the command words, for help (e.g. '<payment-id>'); none if absent. */
  args?: string;
  /** Flags it accepts (without --), for validation and help. */
  flags?: Record<string, string>;
  run(args: ParsedArgs, io: CliIo, ctx: Ctx): Promise<number>;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export class CliError extends Error {
  override name = 'CliError';
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[a.slice(2)] = argv[++i]!;
      else flags[a.slice(2)] = true;
    } else if (a === '-h') flags.help = true;
    else positionals.push(a);
  }
  return { positionals, flags };
}

/** requireFlag(args, 'email') -> the value, or a CliError naming the missing flag. */
export function requireFlag(args: ParsedArgs, name: string): string {
  const v = args.flags[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`missing --${name}`);
  return v;
}

export function commandHelp<Ctx>(cmd: Command<Ctx>): string {
  const lines = [`settle ${cmd.path.join(' ')} — ${cmd.summary}`, '', `usage: ${cmd.usage}`];
  if (cmd.flags && Object.keys(cmd.flags).length) {
    lines.push('', 'options:');
    for (const [f, d] of Object.entries(cmd.flags)) lines.push(`  --${f.padEnd(16)} ${d}`);
  }
  lines.push('  --help             show this help');
  return lines.join('\n');
}

export function overviewHelp<Ctx>(commands: Array<Command<Ctx>>, prefix: string[] = []): string {
  const shown = commands.filter((c) => prefix.every((p, i) => c.path[i] === p));
  const lines = ['usage: settle <command> [options]', '', 'commands:'];
  for (const c of shown) lines.push(`  ${c.path.join(' ').padEnd(22)} ${c.summary}`);
  lines.push('', 'Run `settle <command> --help` for its options. Configuration comes from SETTLE_* variables and SETTLE_CONFIG.');
  return lines.join('\n');
}

/** Finds the longest command path matching the positionals. */
export function findCommand<Ctx>(commands: Array<Command<Ctx>>, positionals: string[]): { cmd: Command<Ctx>; rest: string[] } | null {
  let best: Command<Ctx> | null = null;
  for (const c of commands) {
    if (c.path.every((p, i) => positionals[i] === p) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { cmd: best, rest: positionals.slice(best.path.length) } : null;
}

/** Refuses options the command does not declare, and arguments when it takes none. */
export function checkFlags<Ctx>(cmd: Command<Ctx>, args: ParsedArgs, rest: string[] = []): void {
  if (rest.length && !cmd.args) throw new CliError(`unexpected argument "${rest[0]}" for "settle ${cmd.path.join(' ')}" (see --help)`);
  for (const f of Object.keys(args.flags)) {
    if (f !== 'help' && !(cmd.flags && f in cmd.flags)) throw new CliError(`unknown option --${f} for "settle ${cmd.path.join(' ')}" (see --help)`);
  }
}
