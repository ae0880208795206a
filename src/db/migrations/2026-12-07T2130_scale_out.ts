// Several processes on one database (issue 15). `leases`: one row per singleton loop (a chain's
// deposit scanner, the sweeper, the reconciler …); its holder renews expires_at_ms and every
// write transaction of a tick checks that its token is still the row's (fencing, decision 0017).
// `lease_ticks`: the durable record of each tick's interval per holder, so that a test (or an
// operator) can prove no loop ever ran twice at once. `rate_limit_windows`: per-caller request
// counts per fixed window, shared by the API processes. Webhook messages get a claim (who sends
// it, until when) so that two processes never both send one. Frozen in time: Kysely<any>.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('token', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('lease_ticks')
    .addColumn('id', isPg ? sql`bigserial` : 'integer', (c) => (isPg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('token', 'bigint', (c) => c.notNull())
    .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('ended_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('lease_ticks_name_time').on('lease_ticks').columns(['name', 'started_at_ms']).execute();
  await db.schema
    .createTable('rate_limit_windows')
    .addColumn('caller', 'text', (c) => c.notNull())
    .addColumn('window_start_ms', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_windows_pk', ['caller', 'window_start_ms'])
    .execute();
  await db.schema.createIndex('rate_limit_windows_time').on('rate_limit_windows').column('window_start_ms').execute();
  await db.schema.alterTable('webhook_messages').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('webhook_messages').addColumn('claimed_until_ms', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_messages').dropColumn('claimed_until_ms').execute();
  await db.schema.alterTable('webhook_messages').dropColumn('claimed_by').execute();
  await db.schema.dropTable('rate_limit_windows').execute();
  await db.schema.dropTable('lease_ticks').execute();
  await db.schema.dropTable('leases').execute();
}
