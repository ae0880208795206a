// The only place that reads the environment: loads the configuration, opens and migrates the
// database, builds the platform, listens, and shuts everything down in order on SIGINT/SIGTERM
// (in-flight requests finish, running jobs finish, leases are released, then the database closes).
//
// A process has a role (`settle start --role api|worker|all`, issue 15): `api` serves the whole
// HTTP API and runs no background work; `worker` runs the jobs and the background loops (the
// singleton ones only while it holds their lease) and serves only /healthz, /readyz and /metrics;
// `all` (the default, `npm start`) is both in one process.
import type pino from 'pino';
import { RUNNING_MESSAGE, createLogger, prettyStream } from './ops/ops.ts';
import { ConfigError, loadConfig, requireDeploymentSecrets, type Config } from './config.ts';
import type { Db } from './db/database.ts';
import { describeDb, openConfiguredDb } from './db/configured-db.ts';
import { migrateToLatest } from './db/migrate.ts';
import { buildPlatformApp, createPlatform, startBackground, stopBackground, type Platform } from './platform.ts';
import type { App } from './app.ts';
import { prepareDevChain, type DevChainHandle } from './chain/chain.ts';
import { bookDevFloat } from './payments/custody/dev-float.ts';
import { ensureWebBuilt } from './web/web-build.ts';

export type Role = 'api' | 'worker' | 'all';
export const ROLES: readonly Role[] = ['api', 'worker', 'all'];

/**
 * Several processes share one database only with one encryption key: a process that generated
 * its own beside its data dir could not open what the others sealed. The dev chain (no chains
 * configured, one process) keeps the generated key; an api or worker role never does.
 */
export function requireSharedKey(config: Pick<Config, 'encryption_key'>, role: Role): void {
  if (role !== 'all' && !config.encryption_key) {
    throw new ConfigError(`settle start --role ${role} needs SETTLE_ENCRYPTION_KEY: every api and worker process must share one key (openssl rand -base64 32), never a key generated per data dir`);
  }
}

export interface Running {
  config: Config;
  db: Db;
  platform: Platform;
  app: App;
  url: string;
  stop(): Promise<void>;
}

export function configFromEnv(): Config {
  return loadConfig(process.env, process.cwd());
}

/**
 * Starts the whole platform; returns a handle whose stop() shuts it down gracefully.
 * `prepare` runs after the platform is built and before the app is, so that tests (and tools)
 * can add routes or job handlers: start(config, log, (p) => p.routes.push(myRoutes)).
 */
export async function start(config: Config, log: pino.Logger = createLogger(config), prepare?: (platform: Platform) => void, role: Role = 'all'): Promise<Running> {
  requireDeploymentSecrets(config);
  requireSharedKey(config, role);
  const db = openConfiguredDb(config);
  let platform: Platform | null = null;
  let app: App | null = null;
  let address: string;
  let dev: DevChainHandle | null = null;
  try {
    // No chain configured: the local dev chain starts first and joins the configuration.
    dev = await prepareDevChain(config, log);
    config = dev.config;
    const applied = await migrateToLatest(db);
    log.info({ database: describeDb(config), migrations_applied: applied.length }, 'database ready');
    platform = await createPlatform(config, db, { log });
    platform.closers.unshift(dev.stop); // closers run in reverse: the chain stops last
    // The dev hot wallet's float is operator capital, booked once so that reconciliation can compare it with the chain.
    const devHot = dev.dev ? platform.hotWallets?.get(dev.dev.info.chain_id) : undefined;
    if (dev.dev && devHot) await bookDevFloat({ ledger: platform.ledger, client: devHot.client, chain: dev.dev.chain, hot: devHot.address });
    prepare?.(platform);
    // A worker answers only the operator's endpoints (health, readiness, metrics): no module routes.
    app = await buildPlatformApp(role === 'worker' ? { ...platform, routes: [] } : platform, log);
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // A failed start (port taken, bad migration) still releases what it opened.
    await app?.close().catch(() => undefined);
    if (platform) await stopBackground(platform).catch(() => undefined);
    else await dev?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
  if (role !== 'api') startBackground(platform);
  log.info({
    role, url: address, docs: `${address}/docs`, data_dir: config.data_dir, database: describeDb(config),
    chains: config.chains.map((c) => `${c.name} (${c.chain_id})`), dev_chain: Boolean(dev?.dev),
  }, RUNNING_MESSAGE);
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      log.info('shutting down: finishing in-flight requests and jobs');
      await app.close();
      await stopBackground(platform);
      await db.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { config, db, platform, app, url: address, stop };
}

/** Runs until SIGINT/SIGTERM. */
export async function runForever(config: Config, role: Role = 'all'): Promise<void> {
  requireDeploymentSecrets(config);
  requireSharedKey(config, role); // before the web build: a refusal comes at once
  // A person at a terminal reads a banner and plain lines; anything else (a file, a collector) gets JSON.
  const log = createLogger(config, process.stdout.isTTY ? prettyStream(process.stdout) : undefined);
  // The web app is served from web/dist: built here when missing or older than web/ (docs/decisions/0012-web-app-build.md).
  if (role !== 'worker') await ensureWebBuilt((msg) => log.info(msg)).catch((error: unknown) => log.error({ err: error }, 'web app build failed; the API still runs'));
  const running = await start(config, log, undefined, role);
  const onSignal = (signal: string) => {
    log.info({ signal }, 'signal received');
    const force = setTimeout(() => process.exit(1), config.limits.shutdown_ms_max + 5000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
