// Announcements (issue 14, API.md part 2 "Announcements and status"): staff publish a notice in
// both languages with a severity, a schedule and a scope; it shows in GET /announcements (with
// the maintenance windows, which announce themselves), the banner of every page and the Atom
// feed while it is active or upcoming, and leaves by itself at its end. Publishing and ending
// are audited; publishing emits `announcement.published` to the outbox.
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { writeAudit, type AuditMeta } from '../db/audit-log.ts';
import { emitEvent } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import { announcementEndMs, checkAnnouncement, type Announcement, type AnnouncementInput, type AnnouncementRefusal } from './announcement-rules.ts';
import * as store from './announcement-store.ts';

export type { Announcement, AnnouncementInput, AnnouncementRefusal, Severity } from './announcement-rules.ts';
export const ANNOUNCEMENTS_LISTED_MAX = 100;

export function createAnnouncements(deps: { db: Db; clock: Clock; config: Pick<Config, 'chains'> }) {
  const { db, clock } = deps;
  const chain_ids = deps.config.chains.map((c) => c.chain_id);
  return {
    /** publish({ title: { en, 'zh-CN' }, body, severity: 'info', starts_at_ms, ends_at_ms: null, scope: 'global' }, staff_id, meta) */
    async publish(input: AnnouncementInput, actor_id: string, meta: AuditMeta | null = null): Promise<{ ok: true; announcement: Announcement } | { ok: false; reason: AnnouncementRefusal }> {
      const now = clock.now_ms();
      const refusal = checkAnnouncement(input, now, chain_ids);
      if (refusal) return { ok: false, reason: refusal };
      const a: Announcement = {
        id: newId('ann', now), title_en: input.title.en.trim(), title_zh: input.title['zh-CN'].trim(), body_en: input.body.en.trim(), body_zh: input.body['zh-CN'].trim(),
        severity: input.severity, scope: input.scope, starts_at_ms: input.starts_at_ms, ends_at_ms: input.ends_at_ms, created_by: actor_id, created_at_ms: now, ended_at_ms: null, ended_by: null,
      };
      await db.transaction(async (trx) => {
        await store.insertAnnouncement(trx, a);
        await writeAudit(trx, { actor: { type: 'staff', id: actor_id }, action: 'announcement_published', subject: { type: 'announcement', id: a.id }, meta, details: { severity: a.severity, scope: a.scope, starts_at_ms: a.starts_at_ms, ends_at_ms: a.ends_at_ms, title: a.title_en } }, now);
        await emitEvent(trx, { type: 'announcement.published', aggregate_type: 'announcement', aggregate_id: a.id, payload: { id: a.id, severity: a.severity, scope: a.scope } }, clock);
      });
      return { ok: true, announcement: a };
    },

    /** Ends it now (audited); an announcement already over is returned as it is. null: no such id. */
    async end(id: string, actor_id: string, meta: AuditMeta | null = null): Promise<Announcement | null> {
      const now = clock.now_ms();
      return db.transaction(async (trx) => {
        const a = await store.selectAnnouncement(trx, id);
        if (!a) return null;
        const end = announcementEndMs(a);
        if (end !== null && end <= now) return a;
        await store.markAnnouncementEnded(trx, id, now, actor_id);
        await writeAudit(trx, { actor: { type: 'staff', id: actor_id }, action: 'announcement_ended', subject: { type: 'announcement', id }, meta, details: { planned_end_ms: a.ends_at_ms } }, now);
        return { ...a, ended_at_ms: now, ended_by: actor_id };
      });
    },

    recent: (limit: number) => store.selectRecentAnnouncements(db.kysely, Math.min(limit, ANNOUNCEMENTS_LISTED_MAX)),
    /** Active and upcoming, soonest first. */
    current: () => store.selectCurrentAnnouncements(db.kysely, clock.now_ms(), ANNOUNCEMENTS_LISTED_MAX),
  };
}

export type Announcements = ReturnType<typeof createAnnouncements>;
