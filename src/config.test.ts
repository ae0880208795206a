// Goal: configuration is validated at start and every refusal names the bad key — environment
// variables, the settle.config.json file (by JSON path, e.g. "chains.0.rpc_url") and limits;
// defaults match API.md "Environment"; every limit is named *_max.
// Method: loadConfig over literal environments and config files written to a temp directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, LIMITS, loadConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'settle-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env, dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

const chain = (patch: Record<string, unknown> = {}) => ({
  chain_id: 31337,
  name: 'dev',
  rpc_url: 'http://127.0.0.1:8545',
  native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: '1', blocks: 3 }, { max_amount: null, blocks: 12 }] },
  tokens: [{ symbol: 'USDT', address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', decimals: 6, min_deposit: '1', confirmations: [{ max_amount: '1000', blocks: 3 }, { max_amount: '5000', blocks: 6 }, { max_amount: null, blocks: 12 }] }],
  ...patch,
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, dir);
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.data_dir).toBe(join(dir, 'data'));
    expect(c.database).toEqual({ kind: 'sqlite', path: join(dir, 'data', 'settle.db') });
    expect(c.public_url).toBe('http://127.0.0.1:3000');
    expect(c.chains).toEqual([]);
    expect(c.allow_private_webhook_urls).toBe(true); // dev chain
    expect(c.rate_limit).toEqual({ per_second: 50, burst: 200 });
    expect(c.limits).toEqual(LIMITS);
  });

  it('reads the environment', () => {
    const c = loadConfig({ SETTLE_PORT: '4100', SETTLE_DATA_DIR: '/srv/settle', SETTLE_DATABASE_URL: 'postgres://u@db/settle', SETTLE_PUBLIC_URL: 'https://pay.example.com/' }, dir);
    expect(c.port).toBe(4100);
    expect(c.data_dir).toBe('/srv/settle');
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u@db/settle' });
    expect(c.public_url).toBe('https://pay.example.com');
    expect(loadConfig({ SETTLE_DATABASE_URL: 'other.db' }, dir).database).toEqual({ kind: 'sqlite', path: join(dir, 'other.db') });
  });

  it('names the bad environment variable', () => {
    expect(refusal({ SETTLE_PORT: 'abc' })).toMatch(/^SETTLE_PORT must be a whole number, got "abc"/);
    expect(refusal({ SETTLE_PORT: '70000' })).toMatch(/^SETTLE_PORT must be between 0 and 65535/);
    expect(refusal({ SETTLE_FOO: '1' })).toBe('SETTLE_FOO is not a known setting');
    expect(refusal({ SETTLE_DATABASE_URL: 'mysql://x' })).toMatch(/^SETTLE_DATABASE_URL/);
    expect(refusal({ SETTLE_ENCRYPTION_KEY: 'c2hvcnQ=' })).toMatch(/^SETTLE_ENCRYPTION_KEY/);
    expect(refusal({ SETTLE_HOT_WALLET_PRIVATE_KEY: '0x12' })).toMatch(/^SETTLE_HOT_WALLET_PRIVATE_KEY/);
    expect(refusal({ SETTLE_DEPOSIT_MNEMONIC: 'one two three' })).toMatch(/^SETTLE_DEPOSIT_MNEMONIC/);
    expect(refusal({ SETTLE_SMTP_URL: 'http://mail' })).toMatch(/^SETTLE_SMTP_URL/);
    expect(refusal({ SETTLE_PUBLIC_URL: 'pay.example.com' })).toMatch(/^SETTLE_PUBLIC_URL/);
    expect(refusal({ SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS: 'yes' })).toMatch(/^SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS/);
    // Variables that are not the server's are none of its business.
    expect(() => loadConfig({ SETTLE_BENCH_SECONDS: '5', SETTLE_TEST_DATABASE_URL: 'postgres://x' }, dir)).not.toThrow();
    expect(() => loadConfig({ PATH: '/bin', HOME: '/root' }, dir)).not.toThrow();
  });

  it('reads the support channels: inbound SMTP off by default, the desk address, Telegram off without a secret', () => {
    expect(loadConfig({}, dir).support_channels).toEqual({
      inbound_smtp_port: null, inbound_smtp_host: '127.0.0.1', support_email: 'support@localhost',
      telegram: { webhook_secret: null, bot_token: null, api_url: 'https://api.telegram.org' },
    });
    const on = loadConfig({ SETTLE_INBOUND_SMTP_PORT: '2525', SETTLE_SUPPORT_EMAIL: 'Help@Settle.Example', SETTLE_TELEGRAM_WEBHOOK_SECRET: 's'.repeat(32), SETTLE_TELEGRAM_BOT_TOKEN: '123456:ABCdefGHIjklMNOpqrSTUvwx', SETTLE_TELEGRAM_API_URL: 'http://127.0.0.1:9/' }, dir).support_channels;
    expect(on).toMatchObject({ inbound_smtp_port: 2525, support_email: 'help@settle.example', telegram: { webhook_secret: 's'.repeat(32), api_url: 'http://127.0.0.1:9' } });
    expect(refusal({ SETTLE_SUPPORT_EMAIL: 'not an address' })).toMatch(/SETTLE_SUPPORT_EMAIL/);
    expect(refusal({ SETTLE_INBOUND_SMTP_PORT: '70000' })).toMatch(/SETTLE_INBOUND_SMTP_PORT/);
    expect(refusal({ SETTLE_TELEGRAM_WEBHOOK_SECRET: 'short' })).toMatch(/SETTLE_TELEGRAM_WEBHOOK_SECRET/);
    expect(refusal({ SETTLE_TELEGRAM_BOT_TOKEN: 'nope' })).toMatch(/SETTLE_TELEGRAM_BOT_TOKEN/);
  });

  it('reads chains from settle.config.json, the documented shape included', () => {
    const path = file('ok.json', { chains: [chain()], rate_limit: { per_second: 5, burst: 10 }, limits: { page_size_max: 50 } });
    const c = loadConfig({ SETTLE_CONFIG: path }, dir);
    expect(c.config_path).toBe(path);
    expect(c.chains).toHaveLength(1);
    expect(c.chains[0]!.tokens![0]!.address).toBe('0x5FbDB2315678afecb367f032d93F642f64180aa3');
    expect(c.rate_limit).toEqual({ per_second: 5, burst: 10 });
    expect(c.limits.page_size_max).toBe(50);
    expect(c.limits.body_bytes_max).toBe(LIMITS.body_bytes_max);
    expect(c.allow_private_webhook_urls).toBe(false); // a real chain: no private webhook URLs unless asked
  });

  it('names the file and the bad key in it', () => {
    expect(refusal({ SETTLE_CONFIG: join(dir, 'missing.json') })).toMatch(/^SETTLE_CONFIG: cannot read .*missing\.json/);
    expect(refusal({ SETTLE_CONFIG: file('bad.json', '{"chains": [') })).toMatch(/^SETTLE_CONFIG: .*bad\.json is not valid JSON/);
    expect(refusal({ SETTLE_CONFIG: file('rpc.json', { chains: [chain({ rpc_url: 'ftp://x' })] }) })).toContain('"chains.0.rpc_url"');
    expect(refusal({ SETTLE_CONFIG: file('id.json', { chains: [chain({ chain_id: 0 })] }) })).toContain('"chains.0.chain_id"');
    expect(refusal({ SETTLE_CONFIG: file('extra.json', { chains: [chain({ rpcurl: 'http://x' })] }) })).toContain('"chains.0.rpcurl"');
    expect(refusal({ SETTLE_CONFIG: file('top.json', { chain: [] }) })).toContain('"chain"');
    const badToken = chain();
    (badToken.tokens[0] as Record<string, unknown>).address = '0x123';
    expect(refusal({ SETTLE_CONFIG: file('tok.json', { chains: [badToken] }) })).toContain('"chains.0.tokens.0.address"');
    expect(refusal({ SETTLE_CONFIG: file('dup.json', { chains: [chain(), chain({ name: 'again' })] }) })).toContain('"chains.1.chain_id" 31337 appears twice');
  });

  it('checks confirmation tiers: ascending, open-ended last', () => {
    const open = chain({ native: { symbol: 'ETH', decimals: 18, confirmations: [{ max_amount: '1', blocks: 3 }] } });
    expect(refusal({ SETTLE_CONFIG: file('t1.json', { chains: [open] }) })).toContain('"chains.0.native.confirmations.0.max_amount" must be null');
    const down = chain({ native: { symbol: 'ETH', decimals: 18, confirmations: [{ max_amount: '5', blocks: 3 }, { max_amount: '1', blocks: 6 }, { max_amount: null, blocks: 9 }] } });
    expect(refusal({ SETTLE_CONFIG: file('t2.json', { chains: [down] }) })).toContain('"chains.0.native.confirmations.1.max_amount" must be larger');
  });

  it('names an unknown or invalid limit', () => {
    expect(refusal({ SETTLE_CONFIG: file('l1.json', { limits: { bogus_max: 3 } }) })).toContain('"limits.bogus_max" is not a known limit');
    expect(refusal({ SETTLE_CONFIG: file('l2.json', { limits: { page_size_max: 0 } }) })).toContain('"limits.page_size_max"');
  });

  it('names every limit *_max, in one place', () => {
    for (const key of Object.keys(LIMITS)) expect(key).toMatch(/_max$/);
  });
});
