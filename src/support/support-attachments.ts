// Support attachments: stored once (type sniffed from the bytes, size-limited, sha256 kept,
// sealed in a BlobStore), then put on a case by the message that names them. Served only to the
// uploader, the customer of the case it is on, and staff: anyone else gets null (the route's 404).
import { createHash } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import { isStaff, type Principal } from '../shared/principal.ts';
import type { BlobStore } from './blob-store.ts';
import { safeFilename, sniffType } from './attachment-rules.ts';
import { attachmentById, attachmentMeta, insertAttachment, type AttachmentRow } from './support-attachments-store.ts';
import { caseById } from './support-store.ts';
import type { AttachmentMeta } from './support-dto.ts';

export type UploadResult = { ok: true; attachment: AttachmentMeta } | { ok: false; reason: 'too_large' | 'type_refused' };

export function createAttachments(deps: { db: Db; clock: Clock; blobs: BlobStore; bytes_max: number }) {
  const { db, clock, blobs } = deps;
  return {
    /**
     * upload({ bytes, filename: 'screen.png', uploader: { type: 'user', id } }) -> { ok, attachment }
     * The blob is written before its row: a crash between leaves an orphan blob, never a row
     * without bytes.
     */
    async upload(a: { bytes: Buffer; filename: string | null; uploader: { type: 'user' | 'staff' | 'channel'; id: string | null } }): Promise<UploadResult> {
      if (a.bytes.length > deps.bytes_max) return { ok: false, reason: 'too_large' };
      const type = sniffType(a.bytes);
      if (!type) return { ok: false, reason: 'type_refused' };
      const now = clock.now_ms();
      const id = newId('att', now);
      const row: AttachmentRow = {
        id, uploader_type: a.uploader.type, uploader_id: a.uploader.id, case_id: null, filename: safeFilename(a.filename, type), content_type: type,
        size: a.bytes.length, sha256: createHash('sha256').update(a.bytes).digest('hex'), blob_key: id, created_at_ms: now,
      };
      await blobs.put(row.blob_key, a.bytes);
      await insertAttachment(db.kysely, row);
      return { ok: true, attachment: attachmentMeta(row) };
    },

    /** The file for this caller, or null when they may not see it (or it does not exist). */
    async download(id: string, p: Principal): Promise<{ meta: AttachmentMeta; bytes: Buffer } | null> {
      const a = await attachmentById(db.kysely, id);
      if (!a) return null;
      let allowed = isStaff(p) || (a.uploader_type !== 'channel' && a.uploader_id === p.user_id);
      if (!allowed && a.case_id) allowed = (await caseById(db.kysely, a.case_id))?.user_id === p.user_id;
      if (!allowed) return null;
      const bytes = await blobs.get(a.blob_key);
      return bytes ? { meta: attachmentMeta(a), bytes } : null;
    },
  };
}

export type Attachments = ReturnType<typeof createAttachments>;
