// Validated configuration. main.ts reads the environment and the optional settle.config.json and
// hands them to loadConfig; nothing else reads process.env. Every limit named *_max lives in
// LIMITS below, so that "how big can this get" has one answer.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Every bound the platform enforces. Files and env may override some (see `limits` in the file). */
export const LIMITS = {
  body_bytes_max: 1_048_576,
  upload_bytes_max: 10 * 1_048_576,
  /** One support attachment (a screenshot, a PDF statement, a text log). */
  support_attachment_bytes_max: 10 * 1_048_576,
  /** Accounts routes (register, login, /me …) take a few small fields; only the document upload takes more. */
  account_body_bytes_max: 16_384,
  page_size_max: 100,
  jobs_per_tick_max: 32,
  job_attempts_max: 25,
  job_backoff_ms_max: 6 * 60 * 60 * 1000,
  job_lease_ms_max: 10 * 60 * 1000,
  outbox_batch_max: 500,
  ledger_batch_max: 8190,
  ledger_queue_max: 100_000,
  blocks_per_tick_max: 500,
  idempotency_key_length_max: 255,
  request_id_length_max: 128,
  password_length_max: 256,
  email_length_max: 254,
  sessions_per_user_max: 50,
  rate_limit_burst_max: 200,
  webhook_attempts_max: 30,
  shutdown_ms_max: 15_000,
  /** One inbound support mail, attachments included (the SMTP SIZE the inbound server announces). */
  inbound_mail_bytes_max: 10 * 1_048_576,
} as const;
export type Limits = { -readonly [K in keyof typeof LIMITS]: number };

const Decimal = Type.String({ pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$' });
const ConfirmationTier = Type.Object(
  { max_amount: Type.Union([Decimal, Type.Null()]), blocks: Type.Integer({ minimum: 1, maximum: 10_000 }) },
  { additionalProperties: false },
);
const assetFields = {
  symbol: Type.String({ pattern: '^[A-Z0-9]{2,12}$' }),
  decimals: Type.Integer({ minimum: 0, maximum: 36 }),
  min_deposit: Type.Optional(Decimal),
  /** Withdrawals of at least this amount wait for a staff review (default per symbol: withdrawal-rules DEFAULT_REVIEW_ABOVE). */
  review_above: Type.Optional(Decimal),
  /**
   * US dollars per whole unit, for the KYC limits (which are set in US dollars). USD stablecoins
   * count 1:1 without it; an asset with neither is not limited by KYC amounts (review_above still applies).
   */
  usd_price: Type.Optional(Decimal),
  /** The smallest withdrawal accepted, so that dust cannot drain the hot wallet's gas (default: none). */
  min_withdrawal: Type.Optional(Decimal),
  /** What a withdrawal costs the user, in the asset, booked to the platform's fees (default: 0). */
  withdrawal_fee: Type.Optional(Decimal),
  confirmations: Type.Optional(Type.Array(ConfirmationTier, { minItems: 1, maxItems: 16 })),
};
const AssetFile = Type.Object(assetFields, { additionalProperties: false });
// One flat object rather than an intersection: with additionalProperties false on a member of
// an intersection, the member refuses the other member's `address`.
const TokenFile = Type.Object({ ...assetFields, address: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' }) }, { additionalProperties: false });
const ChainFile = Type.Object(
  {
    chain_id: Type.Integer({ minimum: 1 }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    rpc_url: Type.String({ pattern: '^https?://' }),
    poll_interval_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 600_000 })),
    start_block: Type.Optional(Type.Integer({ minimum: 0 })),
    native: Type.Optional(AssetFile),
    tokens: Type.Optional(Type.Array(TokenFile, { maxItems: 64 })),
  },
  { additionalProperties: false },
);
const RetentionDays = Type.Integer({ minimum: 1, maximum: 3650 });

/**
 * Days of history kept by the hourly housekeeping job (security review #20): finished jobs,
 * outbox events every consumer has passed, ended/expired sessions and old "this wasn't me"
 * tokens, sign-in throttle rows, delivered or dead webhook messages with their attempts, and the
 * per-user event feed (GET /events, /stream's Last-Event-ID can resume that far back).
 */
export const RETENTION_DEFAULTS = { jobs_days: 7, outbox_days: 7, sessions_days: 30, throttle_days: 2, webhooks_days: 30, user_events_days: 30 } as const;
export type Retention = { [K in keyof typeof RETENTION_DEFAULTS]: number };

export const ConfigFileSchema = Type.Object(
  {
    chains: Type.Optional(Type.Array(ChainFile, { maxItems: 32 })),
    rate_limit: Type.Optional(
      Type.Object(
        { per_second: Type.Number({ minimum: 0.1, maximum: 100_000 }), burst: Type.Integer({ minimum: 1, maximum: 100_000 }) },
        { additionalProperties: false },
      ),
    ),
    login_throttle: Type.Optional(
      Type.Object(
        {
          failures_before_wait: Type.Integer({ minimum: 1, maximum: 100 }),
          first_wait_s: Type.Integer({ minimum: 1, maximum: 86_400 }),
          wait_s_max: Type.Integer({ minimum: 1, maximum: 86_400 }),
          reset_after_s: Type.Integer({ minimum: 60, maximum: 30 * 86_400 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Registrations per client IP per window (each pays an argon2id hash). */
    registration_throttle: Type.Optional(
      Type.Object({ per_ip: Type.Integer({ minimum: 1, maximum: 1_000_000 }), window_s: Type.Integer({ minimum: 1, maximum: 7 * 86_400 }) }, { additionalProperties: false }),
    ),
    limits: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 1 }))),
    /** How long housekeeping keeps rows that are only history (days; the audit log and the ledger are kept for ever). */
    retention: Type.Optional(
      Type.Object(
        {
          jobs_days: Type.Optional(RetentionDays),
          outbox_days: Type.Optional(RetentionDays),
          sessions_days: Type.Optional(RetentionDays),
          throttle_days: Type.Optional(RetentionDays),
          webhooks_days: Type.Optional(RetentionDays),
          user_events_days: Type.Optional(RetentionDays),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Staff controls (API.md part 2 names the key): a staff decision on money worth at least
     * `four_eyes_above_usd` US dollars (a withdrawal review …) needs a second, different staff member.
     */
    support: Type.Optional(Type.Object({ four_eyes_above_usd: Type.Optional(Decimal) }, { additionalProperties: false })),
    /** P2P trades (API.md part 2): the buyer's payment window, the seller's release window, the fiat currencies offered. */
    p2p: Type.Optional(
      Type.Object(
        {
          payment_window_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86_400 })),
          release_window_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86_400 })),
          fiat: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{3}$' }), { minItems: 1, maxItems: 64, uniqueItems: true })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;
export type ChainConfigFile = Static<typeof ChainFile>;

export interface Config {
  port: number;
  host: string;
  data_dir: string;
  database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  public_url: string;
  config_path: string | null;
  deposit_mnemonic: string | null;
  hot_wallet_private_key: string | null;
  smtp_url: string | null;
  encryption_key: string | null;
  allow_private_webhook_urls: boolean;
  /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client; empty = trust none. */
  trust_proxy: string[];
  /** Bearer token that /metrics requires; null = /metrics is served to no one. */
  metrics_token: string | null;
  /** PostgreSQL connection bounds (db/database.ts PgTimeouts); SQLite ignores them. */
  db_timeouts: { statement_timeout_ms: number; idle_in_transaction_timeout_ms: number; connect_timeout_ms: number };
  log_level: string;
  /** How long a singleton loop's lease holds without renewal (SETTLE_LEASE_MS, default 15 s): the takeover delay after a crash (decision 0017). */
  lease_ms: number;
  chains: ChainConfigFile[];
  rate_limit: { per_second: number; burst: number };
  login_throttle: { failures_before_wait: number; first_wait_s: number; wait_s_max: number; reset_after_s: number };
  registration_throttle: { per_ip: number; window_s: number };
  limits: Limits;
  /** `four_eyes_above_usd`: a decimal string of US dollars (default "1000"). */
  support: { four_eyes_above_usd: string };
  /** Days of history housekeeping keeps (see RETENTION_DEFAULTS). */
  retention: Retention;
  /** P2P trades: windows in seconds and the fiat currencies ads may use. */
  p2p: { payment_window_s: number; release_window_s: number; fiat: string[] };
  /** The support desk's channels (API.md part 2, Support; src/support/email/, src/support/telegram/). */
  support_channels: SupportChannelsConfig;
}

export interface SupportChannelsConfig {
  /** Port of the inbound SMTP server; null = no inbound mail. */
  inbound_smtp_port: number | null;
  /** Host the inbound SMTP server binds (SETTLE_HOST). */
  inbound_smtp_host: string;
  /** The desk's address: inbound RCPT TO, outbound From (lower case). */
  support_email: string;
  /** Telegram: the channel is off (its webhook route answers 404) while webhook_secret is null. */
  telegram: { webhook_secret: string | null; bot_token: string | null; api_url: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function intFrom(env: Record<string, string | undefined>, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(`${key} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${value}`);
  return value;
}

// SETTLE_TRUST_PROXY=10.0.0.1,192.168.0.0/16: addresses only, never names (a name would be
// resolved once and silently go stale).
function trustProxyFrom(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const bitsOk = bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!family || !bitsOk || extra !== undefined) throw new ConfigError(`SETTLE_TRUST_PROXY: "${entry}" is not an IP address or CIDR (list them separated by commas)`);
  }
  return entries;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`SETTLE_CONFIG: cannot read ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`SETTLE_CONFIG: ${path} is not valid JSON (${(error as Error).message})`);
  }
  const first = [...Value.Errors(ConfigFileSchema, parsed)][0];
  if (first) {
    const key = first.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    throw new ConfigError(`${path}: "${key}" ${first.message}`);
  }
  return parsed as ConfigFile;
}

// Confirmation tiers ascend by max_amount and end with the open tier (max_amount null), so that
// every amount falls in exactly one tier.
function checkTiers(path: string | null, where: string, tiers: Array<{ max_amount: string | null }> | undefined): void {
  if (!tiers) return;
  const last = tiers[tiers.length - 1];
  if (last && last.max_amount !== null) throw new ConfigError(`${path}: "${where}.confirmations.${tiers.length - 1}.max_amount" must be null: the last tier is open-ended`);
  let previous = -1;
  for (const [k, tier] of tiers.entries()) {
    if (tier.max_amount === null) {
      if (k !== tiers.length - 1) throw new ConfigError(`${path}: "${where}.confirmations.${k}.max_amount" may be null only in the last tier`);
      continue;
    }
    const value = Number(tier.max_amount);
    if (value <= previous) throw new ConfigError(`${path}: "${where}.confirmations.${k}.max_amount" must be larger than the tier before it`);
    previous = value;
  }
}

/** Refuses SETTLE_* variables the server does not know (a typo would otherwise be ignored). */
function checkKnownKeys(env: Record<string, string | undefined>): void {
  const known = new Set([
    'SETTLE_PORT', 'SETTLE_HOST', 'SETTLE_DATA_DIR', 'SETTLE_DATABASE_URL', 'SETTLE_CONFIG', 'SETTLE_DEPOSIT_MNEMONIC',
    'SETTLE_HOT_WALLET_PRIVATE_KEY', 'SETTLE_SMTP_URL', 'SETTLE_ENCRYPTION_KEY', 'SETTLE_PUBLIC_URL',
    'SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS', 'SETTLE_LOG_LEVEL', 'SETTLE_TEST_DATABASE_URL', 'SETTLE_TRUST_PROXY',
    'SETTLE_METRICS_TOKEN', 'SETTLE_DB_STATEMENT_TIMEOUT_MS', 'SETTLE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'SETTLE_DB_CONNECT_TIMEOUT_MS',
    'SETTLE_INBOUND_SMTP_PORT', 'SETTLE_SUPPORT_EMAIL', 'SETTLE_TELEGRAM_WEBHOOK_SECRET', 'SETTLE_TELEGRAM_BOT_TOKEN', 'SETTLE_TELEGRAM_API_URL',
    'SETTLE_LEASE_MS',
  ]);
  for (const key of Object.keys(env)) {
    // SETTLE_TEST_* and SETTLE_BENCH_* belong to the test and benchmark tools, not the server.
    if (/^SETTLE_(TEST|BENCH)_/.test(key)) continue;
    if (key.startsWith('SETTLE_') && !known.has(key)) throw new ConfigError(`${key} is not a known setting`);
  }
}

function databaseFrom(env: Record<string, string | undefined>, cwd: string, data_dir: string): Config['database'] {
  const dbUrl = env.SETTLE_DATABASE_URL || '';
  let database: Config['database'];
  if (/^postgres(ql)?:\/\//.test(dbUrl)) database = { kind: 'postgres', url: dbUrl };
  else if (dbUrl.includes('://')) throw new ConfigError(`SETTLE_DATABASE_URL must be postgres://… or a SQLite file path, got "${dbUrl}"`);
  else database = { kind: 'sqlite', path: dbUrl ? resolve(cwd, dbUrl) : resolve(data_dir, 'settle.db') };
  return database;
}

function secretsFrom(env: Record<string, string | undefined>) {
  const encryption_key = env.SETTLE_ENCRYPTION_KEY || null;
  if (encryption_key && Buffer.from(encryption_key, 'base64').length !== 32) {
    throw new ConfigError('SETTLE_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  }
  const hot = env.SETTLE_HOT_WALLET_PRIVATE_KEY || null;
  if (hot && !/^0x[0-9a-fA-F]{64}$/.test(hot)) throw new ConfigError('SETTLE_HOT_WALLET_PRIVATE_KEY must be 0x followed by 64 hex digits');
  const mnemonic = env.SETTLE_DEPOSIT_MNEMONIC || null;
  if (mnemonic && ![12, 15, 18, 21, 24].includes(mnemonic.trim().split(/\s+/).length)) {
    throw new ConfigError('SETTLE_DEPOSIT_MNEMONIC must be a BIP-39 phrase of 12 to 24 words');
  }
  const smtp_url = env.SETTLE_SMTP_URL || null;
  if (smtp_url && !/^smtps?:\/\//.test(smtp_url)) throw new ConfigError('SETTLE_SMTP_URL must start with smtp:// or smtps://');
  return { encryption_key, hot, mnemonic, smtp_url };
}

/** SETTLE_INBOUND_SMTP_PORT, SETTLE_SUPPORT_EMAIL and the SETTLE_TELEGRAM_* settings. */
function supportChannelsFrom(env: Record<string, string | undefined>, host: string): SupportChannelsConfig {
  const inbound_smtp_port = env.SETTLE_INBOUND_SMTP_PORT ? intFrom(env, 'SETTLE_INBOUND_SMTP_PORT', 0, 0, 65_535) : null;
  const support_email = (env.SETTLE_SUPPORT_EMAIL || 'support@localhost').trim().toLowerCase();
  if (!/^[^\s@<>]{1,64}@[^\s@<>]{1,190}$/.test(support_email)) throw new ConfigError(`SETTLE_SUPPORT_EMAIL must be an email address, got "${support_email}"`);
  const webhook_secret = env.SETTLE_TELEGRAM_WEBHOOK_SECRET || null;
  // Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in secret_token.
  if (webhook_secret && !/^[A-Za-z0-9_-]{16,256}$/.test(webhook_secret)) throw new ConfigError('SETTLE_TELEGRAM_WEBHOOK_SECRET must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -');
  const bot_token = env.SETTLE_TELEGRAM_BOT_TOKEN || null;
  if (bot_token && !/^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$/.test(bot_token)) throw new ConfigError('SETTLE_TELEGRAM_BOT_TOKEN must look like 123456:ABC-DEF… (the token @BotFather gives)');
  const api_url = (env.SETTLE_TELEGRAM_API_URL || 'https://api.telegram.org').replace(/\/$/, '');
  if (!/^https?:\/\/[^/]+/.test(api_url)) throw new ConfigError('SETTLE_TELEGRAM_API_URL must be an absolute http(s) URL');
  return { inbound_smtp_port, inbound_smtp_host: host, support_email, telegram: { webhook_secret, bot_token, api_url } };
}

function dbTimeoutsFrom(env: Record<string, string | undefined>): Config['db_timeouts'] {
  const day_ms = 86_400_000;
  return {
    statement_timeout_ms: intFrom(env, 'SETTLE_DB_STATEMENT_TIMEOUT_MS', 60_000, 0, day_ms),
    idle_in_transaction_timeout_ms: intFrom(env, 'SETTLE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30_000, 0, day_ms),
    connect_timeout_ms: intFrom(env, 'SETTLE_DB_CONNECT_TIMEOUT_MS', 10_000, 0, 600_000),
  };
}

/** The limits and chains of the config file, checked beyond what its schema can say. */
function fileSettingsFrom(file: ConfigFile, config_path: string | null): { limits: Limits; chains: ChainConfigFile[] } {
  const limits: Limits = { ...LIMITS };
  for (const [key, value] of Object.entries(file.limits ?? {})) {
    if (!(key in LIMITS)) throw new ConfigError(`${config_path}: "limits.${key}" is not a known limit`);
    (limits as Record<string, number>)[key] = value;
  }
  const chains = file.chains ?? [];
  const ids = new Set<number>();
  for (const [i, chain] of chains.entries()) {
    if (ids.has(chain.chain_id)) throw new ConfigError(`${config_path}: "chains.${i}.chain_id" ${chain.chain_id} appears twice`);
    ids.add(chain.chain_id);
    const assets: Array<[string, ChainConfigFile['native']]> = [[`chains.${i}.native`, chain.native], ...(chain.tokens ?? []).map((t, j) => [`chains.${i}.tokens.${j}`, t] as [string, ChainConfigFile['native']])];
    for (const [where, asset] of assets) checkTiers(config_path, where, asset?.confirmations);
    for (const [where, asset] of assets) {
      for (const key of ['review_above', 'min_withdrawal', 'withdrawal_fee'] as const) {
        const decimals = asset?.[key]?.split('.')[1]?.length ?? 0;
        if (asset && decimals > asset.decimals) throw new ConfigError(`${config_path}: "${where}.${key}" has more than ${asset.decimals} decimals`);
      }
    }
  }

  const four_eyes = file.support?.four_eyes_above_usd;
  if (four_eyes !== undefined && (four_eyes.split('.')[1]?.length ?? 0) > 2) throw new ConfigError(`${config_path}: "support.four_eyes_above_usd" has more than 2 decimals (US cents)`);
  return { limits, chains };
}

/** loadConfig(process.env, process.cwd()) -> Config, or throws ConfigError naming the bad key. */
export function loadConfig(env: Record<string, string | undefined>, cwd: string): Config {
  checkKnownKeys(env);
  const port = intFrom(env, 'SETTLE_PORT', 3000, 0, 65_535);
  const data_dir = resolve(cwd, env.SETTLE_DATA_DIR || './data');
  const database = databaseFrom(env, cwd, data_dir);

  const config_path = env.SETTLE_CONFIG ? resolve(cwd, env.SETTLE_CONFIG) : null;
  const file: ConfigFile = config_path ? readConfigFile(config_path) : {};

  const { encryption_key, hot, mnemonic, smtp_url } = secretsFrom(env);
  const public_url = (env.SETTLE_PUBLIC_URL || `http://127.0.0.1:${port}`).replace(/\/$/, '');
  if (!/^https?:\/\/[^/]+/.test(public_url)) throw new ConfigError('SETTLE_PUBLIC_URL must be an absolute http(s) URL');
  const privateHooks = env.SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS;
  if (privateHooks !== undefined && !['', '0', '1'].includes(privateHooks)) {
    throw new ConfigError('SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS must be 0 or 1');
  }

  const metrics_token = env.SETTLE_METRICS_TOKEN || null;
  if (metrics_token && !/^[\x21-\x7e]{24,256}$/.test(metrics_token)) throw new ConfigError('SETTLE_METRICS_TOKEN must be 24 to 256 printable characters without spaces');
  const db_timeouts = dbTimeoutsFrom(env);
  const { limits, chains } = fileSettingsFrom(file, config_path);

  const host = env.SETTLE_HOST || '127.0.0.1';
  const support_channels = supportChannelsFrom(env, host);

  return {
    port,
    host,
    data_dir,
    database,
    public_url,
    config_path,
    deposit_mnemonic: mnemonic,
    hot_wallet_private_key: hot,
    smtp_url,
    encryption_key,
    allow_private_webhook_urls: privateHooks === '1' || (privateHooks === undefined && chains.length === 0),
    trust_proxy: trustProxyFrom(env.SETTLE_TRUST_PROXY),
    metrics_token,
    db_timeouts,
    log_level: env.SETTLE_LOG_LEVEL || 'info',
    lease_ms: intFrom(env, 'SETTLE_LEASE_MS', 15_000, 300, 600_000),
    chains,
    rate_limit: file.rate_limit ?? { per_second: 50, burst: 200 },
    login_throttle: file.login_throttle ?? { failures_before_wait: 5, first_wait_s: 60, wait_s_max: 900, reset_after_s: 12 * 3600 },
    registration_throttle: file.registration_throttle ?? { per_ip: 20, window_s: 3600 },
    limits,
    support: { four_eyes_above_usd: file.support?.four_eyes_above_usd ?? '1000' },
    retention: { ...RETENTION_DEFAULTS, ...file.retention },
    p2p: { payment_window_s: file.p2p?.payment_window_s ?? 900, release_window_s: file.p2p?.release_window_s ?? 900, fiat: file.p2p?.fiat ?? ['CNY', 'USD'] },
    support_channels,
  };
}

/**
 * Outside the dev chain (chains configured), secrets must be given, never defaulted: a key
 * generated beside the database differs per host (two hosts on one PostgreSQL could not read
 * each other's sealed secrets), and a local mailbox swallows security mail. Called by `settle
 * start`; tools and tests that build a platform in code keep the development defaults.
 */
export function requireDeploymentSecrets(config: Pick<Config, 'chains' | 'encryption_key' | 'smtp_url' | 'config_path'>): void {
  if (!config.chains.length) return;
  const where = config.config_path ?? 'the configuration';
  if (!config.encryption_key) {
    throw new ConfigError(`SETTLE_ENCRYPTION_KEY is required when chains are configured (${where}): set a 32-byte base64 key, the same on every host (openssl rand -base64 32)`);
  }
  if (!config.smtp_url) throw new ConfigError(`SETTLE_SMTP_URL is required when chains are configured (${where}): security mail must reach users`);
}
