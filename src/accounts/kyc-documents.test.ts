// Goal: prove identity documents through the HTTP API on both dialects — type checked by content,
// size-limited, AES-256-GCM at rest, read back by staff.
// Method: a whole platform per test (real database), app.inject().
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { withPlatform, signedIn, staff } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('KYC documents: type by content, size-limited, AES-256-GCM at rest, staff read them back', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'nia@example.com');
      const admin = await staff(t, 'admin3@settle.test', 'admin');
      const upload = (body: Buffer, type: string) => t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents?kind=id_card', headers: { ...bearer(u.token), 'content-type': type }, payload: body });
      const fakePng = await upload(Buffer.from('MZ this is an exe pretending'), 'image/png');
      expect(fakePng.statusCode).toBe(415);
      expect(json(fakePng).code).toBe('unsupported_document_type');
      const pdf = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\nsecret identity number 123456789\n%%EOF');
      const ok = await upload(pdf, 'application/pdf');
      expect(ok.statusCode).toBe(201);
      const doc = json<{ id: string; content_type: string }>(ok);
      expect(doc.content_type).toBe('application/pdf');
      const jpegAsOctets = await upload(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'application/octet-stream');
      expect(json(jpegAsOctets).content_type).toBe('image/jpeg');
      const row = await t.platform.db.kysely.selectFrom('kyc_documents').select('ciphertext').where('id', '=', doc.id).executeTakeFirstOrThrow();
      expect(Buffer.from(row.ciphertext, 'base64').toString('latin1')).not.toContain('identity number');
      const back = await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${u.id}/kyc/documents/${doc.id}`, headers: bearer(admin.token) });
      expect(back.statusCode).toBe(200);
      expect(back.rawPayload.equals(pdf)).toBe(true);
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${u.id}/kyc/documents/${doc.id}`, headers: bearer(u.token) })).statusCode).toBe(403);
      const big = Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(t.platform.config.limits.upload_bytes_max + 10)]);
      expect((await upload(big, 'application/pdf')).statusCode).toBe(413);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents', headers: { ...bearer(u.token), 'content-type': 'text/plain' }, payload: 'hello' })).statusCode).toBe(415);
    });
  });
});
