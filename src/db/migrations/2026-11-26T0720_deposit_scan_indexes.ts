// Indexes for what the deposit scanner reads on every tick. Frozen in time: Kysely<any>, no app imports.
// - deposits (chain_id, block_number): a reorg's orphaning and the check of deposits recorded ahead
//   of the scan read a block range; without it each tick read every deposit of the chain.
// - deposits (chain_id) where orphaned = 1: the orphan settlement looks for the (few) orphaned rows.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('deposits_block').on('deposits').columns(['chain_id', 'block_number']).execute();
  await db.schema.createIndex('deposits_orphaned').on('deposits').column('chain_id').where(sql.ref('orphaned'), '=', 1).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deposits_orphaned').execute();
  await db.schema.dropIndex('deposits_block').execute();
}
