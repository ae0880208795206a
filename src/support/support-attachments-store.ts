// Kysely queries of support attachments (metadata; the bytes live in a BlobStore).
import type { Selectable } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { SupportAttachmentsTable } from '../db/schema-support.ts';
import type { AttachmentMeta } from './support-dto.ts';

export type AttachmentRow = Selectable<SupportAttachmentsTable>;

function fromRow(r: AttachmentRow): AttachmentRow {
  return { ...r, size: Number(r.size), created_at_ms: Number(r.created_at_ms) };
}

export function attachmentMeta(r: AttachmentRow): AttachmentMeta {
  return { id: r.id, filename: r.filename, content_type: r.content_type, size: r.size, sha256: r.sha256 };
}

export async function insertAttachment(ex: DbExecutor, row: AttachmentRow): Promise<void> {
  await ex.insertInto('support_attachments').values(row).execute();
}

export async function attachmentById(ex: DbExecutor, id: string): Promise<AttachmentRow | null> {
  const r = await ex.selectFrom('support_attachments').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

export async function attachmentsByIds(ex: DbExecutor, ids: readonly string[]): Promise<AttachmentRow[]> {
  if (ids.length === 0) return [];
  return (await ex.selectFrom('support_attachments').selectAll().where('id', 'in', [...ids]).execute()).map(fromRow);
}

/** Puts attachments on a case (those not on one yet); the caller checked who uploaded them. */
export async function attachToCase(ex: DbExecutor, ids: readonly string[], case_id: string): Promise<void> {
  if (ids.length === 0) return;
  await ex.updateTable('support_attachments').set({ case_id }).where('id', 'in', [...ids]).where('case_id', 'is', null).execute();
}
