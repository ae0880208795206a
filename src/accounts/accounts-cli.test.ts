// Goal: prove that `settle admin create` makes a staff account from the command line and refuses
// a weak password or an unknown role.
// Method: the CLI's main() over a fresh SQLite database of a test platform, output captured.
import { describe, expect, it } from 'vitest';
import { startTestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { main } from '../cli.ts';

describe('settle admin create', () => {
  it('creates a staff account from the command line', async () => {
    const t = await startTestPlatform('sqlite');
    const saved = { ...process.env };
    try {
      process.env.SETTLE_DATA_DIR = t.dir;
      process.env.SETTLE_DATABASE_URL = `${t.dir}/cli.db`;
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
      expect(await main(['admin', 'create', '--email', 'Root@Example.com', '--password', 'a long admin passphrase', '--role', 'admin'], io)).toBe(0);
      expect(out.join('\n')).toMatch(/created root@example.com .* roles user, admin/);
      expect(await main(['admin', 'create', '--email', 'weak@example.com', '--password', 'password'], io)).toBe(2);
      expect(out.join('\n')).toContain('weak_password');
      expect(await main(['admin', 'create', '--email', 'x@example.com', '--password', 'a long admin passphrase', '--role', 'king'], io)).toBe(2);
    } finally {
      process.env = saved;
      await t.close();
    }
  });
});
