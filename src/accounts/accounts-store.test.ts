// Goal: the accounts store on both dialects — the audit log refuses updates and deletes,
// recovery codes and not-me tokens are single-use even under concurrent use, sessions end only
// for their owner, and the throttle upsert keeps one row per key.
// Method: store functions over a fresh migrated database per dialect (DIALECTS).
import { describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb } from '../../test/helpers/db.ts';
import * as store from './accounts-store.ts';

function userRow(id: string, email: string): store.UserRow {
  return {
    id, email, password_hash: '$argon2id$x', status: 'active', kyc_level: 0, locale: 'en', roles: '["user"]', totp_secret_enc: null, totp_pending_secret_enc: null,
    totp_enabled: 0, totp_last_counter: null, totp_bound_at_ms: null, password_changed_at_ms: 1, identity_verified_at_ms: null, cooldown_until_ms: null, created_at_ms: 1, updated_at_ms: 1,
    email_verified_at_ms: null, restricted_at_ms: null, restricted_by: null,
  };
}

describe.each(DIALECTS)('accounts store on %s', (dialect) => {
  it('keeps the audit log append-only', async () => {
    const t = await openTestDb(dialect);
    try {
      await store.insertAudit(t.db.kysely, { id: 'aud_1', at_ms: 1, actor_type: 'user', actor_id: 'u', action: 'login', subject_type: 'user', subject_id: 'u', ip: null, user_agent: null, request_id: null, details: '{}' });
      await expect(t.db.kysely.updateTable('audit_log').set({ action: 'nothing' }).execute()).rejects.toThrow(/append-only/);
      await expect(t.db.kysely.deleteFrom('audit_log').execute()).rejects.toThrow(/append-only/);
      expect(await t.db.kysely.selectFrom('audit_log').select('action').execute()).toEqual([{ action: 'login' }]);
    } finally {
      await t.cleanup();
    }
  });

  it('uses a recovery code and a not-me token once, even when raced', async () => {
    const t = await openTestDb(dialect);
    try {
      await store.insertUser(t.db.kysely, userRow('usr_a', 'a@example.com'));
      await store.replaceRecoveryCodes(t.db.kysely, 'usr_a', ['h1', 'h2'], 1, ['rc_1', 'rc_2']);
      const wins = await Promise.all([1, 2, 3, 4].map(() => t.db.transaction((trx) => store.useRecoveryCode(trx, 'usr_a', 'h1', 5))));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await store.unusedRecoveryCodes(t.db.kysely, 'usr_a')).toBe(1);
      await store.insertNotMeToken(t.db.kysely, { token_hash: 'nm', user_id: 'usr_a', device_id: null, created_at_ms: 1, expires_at_ms: 100 });
      const users = await Promise.all([1, 2, 3].map(() => t.db.transaction((trx) => store.useNotMeToken(trx, 'nm', 50))));
      expect(users.filter((u) => u !== null)).toEqual(['usr_a']);
      await store.insertNotMeToken(t.db.kysely, { token_hash: 'old', user_id: 'usr_a', device_id: null, created_at_ms: 1, expires_at_ms: 100 });
      expect(await store.useNotMeToken(t.db.kysely, 'old', 100)).toBeNull();
    } finally {
      await t.cleanup();
    }
  });

  it('ends sessions only for their owner and keeps one throttle row per key', async () => {
    const t = await openTestDb(dialect);
    try {
      await store.insertUser(t.db.kysely, userRow('usr_a', 'a@example.com'));
      await store.insertUser(t.db.kysely, userRow('usr_b', 'b@example.com'));
      const session = (id: string, user_id: string): store.SessionRow => ({
        id, user_id, token_hash: `h_${id}`, csrf_hash: 'c', created_at_ms: 1, last_seen_at_ms: 1, expires_at_ms: 10_000, privileged_until_ms: null,
        user_agent: null, ip: null, device_fingerprint: null, ended_at_ms: null, ended_reason: null,
      });
      for (const [id, u] of [['s1', 'usr_a'], ['s2', 'usr_a'], ['s3', 'usr_b']] as const) await store.insertSession(t.db.kysely, session(id, u));
      expect(await store.endSession(t.db.kysely, 'usr_b', 's1', 5, 'x')).toBe(false);
      expect(await store.endSessionsOf(t.db.kysely, 'usr_a', 's1', 5, 'frozen')).toBe(1);
      expect((await store.liveSessions(t.db.kysely, 'usr_a', 10)).map((s) => s.id)).toEqual(['s1']);
      expect((await store.liveSessions(t.db.kysely, 'usr_b', 10)).map((s) => s.id)).toEqual(['s3']);
      await store.saveThrottle(t.db.kysely, { key: 'acct:a@example.com', failures: 1, window_started_at_ms: 1, last_failure_at_ms: 1, wait_until_ms: 0 });
      await store.saveThrottle(t.db.kysely, { key: 'acct:a@example.com', failures: 2, window_started_at_ms: 1, last_failure_at_ms: 2, wait_until_ms: 0 });
      expect(await store.throttleRow(t.db.kysely, 'acct:a@example.com')).toMatchObject({ failures: 2, last_failure_at_ms: 2 });
    } finally {
      await t.cleanup();
    }
  });
});
