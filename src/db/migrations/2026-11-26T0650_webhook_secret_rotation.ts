// Webhook secret rotation: the secret replaced by a rotation keeps signing next to the new one
// until previous_secret_until_ms, so receivers can switch without missing a message (Standard
// Webhooks lets webhook-signature carry several signatures). Sealed like `secret`. Frozen in
// time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret', 'text').execute();
  await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret_until_ms', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').dropColumn('previous_secret_until_ms').execute();
  await db.schema.alterTable('webhook_endpoints').dropColumn('previous_secret').execute();
}
