// Test support for the payments module's API tests: a config with one chain (ETH + USDT), a
// fixed-principal authenticate (header `x-test-user: usr_a` or `usr_a:admin`, locale from
// `x-test-locale`) until the accounts module's real one is wired, and a built app.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { loadConfig, type Config } from '../config.ts';
import type { Locale } from '../shared/i18n.ts';
import type { Principal, Role } from '../shared/principal.ts';

export const TEST_USDT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

export const TEST_CHAINS: Config['chains'] = [
  {
    chain_id: 31337,
    name: 'Dev chain',
    rpc_url: 'http://127.0.0.1:1',
    native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: null, blocks: 3 }] },
    tokens: [{ symbol: 'USDT', address: TEST_USDT, decimals: 6, min_deposit: '1', confirmations: [{ max_amount: '1000', blocks: 3 }, { max_amount: null, blocks: 12 }] }],
  },
];

/**
 * A config with TEST_CHAINS. Built in code rather than through a settle.config.json file: the
 * file schema currently refuses a token's `address` (Intersect of two closed objects).
 */
export function testConfig(extra: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'settle-pay-'));
  const base = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS: '1', ...extra }, dir);
  return { ...base, chains: TEST_CHAINS, rate_limit: { per_second: 100_000, burst: 100_000 } };
}

/** Principal from `x-test-user: <user_id>[:role,role][:scope scope]`. */
export async function headerAuthenticate(req: FastifyRequest): Promise<Principal | null> {
  const raw = req.headers['x-test-user'];
  if (typeof raw !== 'string' || !raw) return null;
  const [user_id, roles, scopes] = raw.split(':');
  const status = (req.headers['x-test-status'] as Principal['status'] | undefined) ?? 'active';
  return {
    kind: scopes ? 'api_key' : 'session',
    user_id: user_id!,
    email: `${user_id}@example.test`,
    roles: (roles ? roles.split(',') : ['user']) as Role[],
    status,
    locale: ((req.headers['x-test-locale'] as string | undefined) ?? 'en') as Locale,
    session_id: scopes ? null : `ses_${user_id}`,
    api_key_id: scopes ? `key_${user_id}` : null,
    scopes: scopes ? scopes.split(' ') : null,
    privileged_until_ms: null,
  };
}
