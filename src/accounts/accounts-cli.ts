// `settle admin create`: the first staff account comes from the command line (API.md).
import { migrateToLatest } from '../db/migrate.ts';
import { CliError, requireFlag, type Command } from '../shared/cli-kit.ts';
import type { CliContext } from '../db/configured-db.ts';
import { isProblemError } from '../shared/errors.ts';
import { ROLES, type Role } from '../shared/principal.ts';
import { systemClock } from '../shared/clock.ts';
import { createAccounts } from './accounts.ts';

export const accountsCommands: Array<Command<CliContext>> = [
  {
    path: ['admin', 'create'],
    summary: 'create a staff account (user, agent, risk or admin role)',
    usage: 'settle admin create --email E --password P --role admin',
    flags: { email: 'login email', password: 'password (same policy as sign-up: 8+ characters, not a common one)', role: `one of ${ROLES.join(', ')} (default admin)` },
    async run(args, io, ctx) {
      const email = requireFlag(args, 'email');
      const password = requireFlag(args, 'password');
      const roleFlag = typeof args.flags.role === 'string' ? args.flags.role : 'admin';
      if (!(ROLES as readonly string[]).includes(roleFlag)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
      const config = ctx.config();
      const db = ctx.openDb();
      try {
        await migrateToLatest(db);
        const accounts = createAccounts({ db, config, clock: systemClock });
        const user = await accounts.createUserWithRoles(email, password, [roleFlag as Role]);
        io.out(`created ${user.email} (${user.id}) with roles ${user.roles.join(', ')}`);
        return 0;
      } catch (error) {
        if (isProblemError(error)) throw new CliError(`${error.code}: ${error.detail}`);
        throw error;
      } finally {
        await db.close();
      }
    },
  },
];
