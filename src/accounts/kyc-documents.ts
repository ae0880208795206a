// Identity documents: uploaded by their user (type checked by content, stored encrypted with a
// key bound to user and document), listed as metadata, and decrypted only for staff who outrank
// the user, each read audited.
import { createHash } from 'node:crypto';
import { isoTime } from '../shared/clock.ts';
import { open, seal } from '../shared/encryption.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Principal } from '../shared/principal.ts';
import { sniffContentType } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import { audit, type AccountsContext, type RequestMeta } from './accounts-context.ts';
import { requireOutranks } from './standing.ts';

export async function uploadKycDocument(ctx: AccountsContext, p: Principal, kind: string, bytes: Buffer, meta: RequestMeta) {
  const { config } = ctx;
  if (bytes.length === 0) throw new ProblemError(400, 'empty_document', 'The document is empty.');
  if (bytes.length > config.limits.upload_bytes_max) throw new ProblemError(413, 'body_too_large', `Documents may be at most ${config.limits.upload_bytes_max} bytes.`);
  const content_type = sniffContentType(bytes);
  if (!content_type) throw new ProblemError(415, 'unsupported_document_type', 'Upload a JPEG, PNG or WebP image, or a PDF (checked by content, not by name).');
  const now = ctx.clock.now_ms();
  const id = newId('kyc', now);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const ciphertext = seal(ctx.key, bytes, `kyc:${p.user_id}:${id}`).toString('base64');
  await ctx.db.transaction(async (trx) => {
    await store.insertKycDocument(trx, { id, user_id: p.user_id, kind, content_type, size_bytes: bytes.length, sha256: sha, ciphertext, status: 'submitted', created_at_ms: now });
    await audit(ctx, trx, 'kyc_document_uploaded', p.user_id, { type: 'user', id: p.user_id }, meta, { document_id: id, content_type, size_bytes: bytes.length });
  });
  return { id, kind, content_type, size_bytes: bytes.length, sha256: sha, status: 'submitted', created_at: isoTime(now) };
}

export async function listKycDocuments(ctx: AccountsContext, user_id: string) {
  const rows = await store.kycDocumentsOf(ctx.db.kysely, user_id, 100);
  return rows.map((d) => ({ id: d.id, kind: d.kind, content_type: d.content_type, size_bytes: d.size_bytes, sha256: d.sha256, status: d.status, created_at: isoTime(d.created_at_ms) }));
}

/** Decrypts one document for staff review (the caller has checked the role and audits the read). */
export async function readKycDocument(ctx: AccountsContext, staff: Principal, user_id: string, id: string, meta: RequestMeta): Promise<{ content_type: string; bytes: Buffer }> {
  const { db } = ctx;
  await requireOutranks(ctx, staff, user_id, 'read the identity documents of', meta);
  const row = await store.kycDocumentCipher(db.kysely, user_id, id);
  if (!row) throw problems.notFound('document');
  await audit(ctx, db.kysely, 'kyc_document_read', user_id, { type: 'staff', id: staff.user_id }, meta, { document_id: id });
  return { content_type: row.content_type, bytes: open(ctx.key, Buffer.from(row.ciphertext, 'base64'), `kyc:${user_id}:${id}`) };
}
