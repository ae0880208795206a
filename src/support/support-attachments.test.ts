// Goal: attachments are judged by their bytes (an executable renamed .png is refused), limited in
// size, kept encrypted at rest with their sha256, and served only to the uploader, the case's
// customer and staff (404 to anyone else). Method: the real platform (both dialects) through
// app.inject(); the sealed file on disk is read back to prove it is not the plain bytes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, type TestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { signedIn, staff, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import { safeFilename, sniffType } from './attachment-rules.ts';
import type { AttachmentMeta, CaseDto } from './support.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR rest of a tiny png')]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64, 0), Buffer.from('This program cannot be run in DOS mode')]);

async function upload(t: TestPlatform, token: string, bytes: Buffer, filename: string, type = 'image/png') {
  return t.app.inject({ method: 'POST', url: `/api/v1/support/attachments?filename=${encodeURIComponent(filename)}`, headers: { ...bearer(token), 'content-type': type }, payload: bytes });
}

describe('attachment rules', () => {
  it('sniffs by content and names files by the sniffed type', () => {
    expect(sniffType(PNG)).toBe('image/png');
    expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2]))).toBe('image/jpeg');
    expect(sniffType(Buffer.from('GIF89a....'))).toBe('image/gif');
    expect(sniffType(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]))).toBe('image/webp');
    expect(sniffType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(sniffType(Buffer.from('tx 0xabc failed, 你好\n'))).toBe('text/plain');
    expect(sniffType(EXE)).toBeNull();
    expect(sniffType(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]))).toBeNull();
    expect(safeFilename('../../evil "x".exe', 'image/png')).toBe('evil x.png');
    expect(safeFilename(null, 'text/plain')).toBe('attachment.txt');
  });
});

describe.each(DIALECTS)('support attachments on %s', (dialect) => {
  it('stores sealed with sha256, refuses an exe renamed .png and oversize files, serves only the entitled', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const b = await signedIn(t, 'b@example.com');
      const exe = await upload(t, a.token, EXE, 'screenshot.png');
      expect(exe.statusCode).toBe(415);
      expect(json(exe).code).toBe('attachment_type_refused');
      const big = await upload(t, a.token, Buffer.concat([PNG, Buffer.alloc(t.platform.config.limits.support_attachment_bytes_max)]), 'big.png');
      expect([413]).toContain(big.statusCode);

      const res = await upload(t, a.token, PNG, 'my screen.png', 'application/octet-stream');
      expect(res.statusCode).toBe(201);
      const att = json<AttachmentMeta>(res);
      expect(att).toMatchObject({ filename: 'my screen.png', content_type: 'image/png', size: PNG.length, sha256: createHash('sha256').update(PNG).digest('hex') });
      const dir = join(t.dir, 'support-attachments');
      const sealed = readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith(att.id))!));
      expect(sealed.includes(PNG)).toBe(false);

      // Before it is on a case: its uploader only.
      const mine = await t.app.inject({ url: `/api/v1/support/attachments/${att.id}`, headers: bearer(a.token) });
      expect(mine.statusCode).toBe(200);
      expect(mine.rawPayload.equals(PNG)).toBe(true);
      expect(mine.headers['content-type']).toBe('image/png');
      expect((await t.app.inject({ url: `/api/v1/support/attachments/${att.id}`, headers: bearer(b.token) })).statusCode).toBe(404);

      // Another user cannot put it on their case; its owner can.
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(b.token), payload: { subject: 's', body: 'b', attachment_ids: [att.id] } })).statusCode).toBe(422);
      const c = json<CaseDto>(await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(a.token), payload: { subject: 'Screenshot', body: 'see attached', attachment_ids: [att.id] } }));
      expect(c.messages[0]!.attachments).toEqual([att]);

      // An agent's file on the case reaches the case's customer, and nobody else.
      const agent = await staff(t, 'agent@example.com', 'agent');
      const pdf = json<AttachmentMeta>(await upload(t, agent.token, Buffer.from('%PDF-1.4\nstatement'), 'statement.pdf', 'application/pdf'));
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/messages`, headers: bearer(agent.token), payload: { body: 'Your statement', attachment_ids: [pdf.id] } })).statusCode).toBe(201);
      expect((await t.app.inject({ url: `/api/v1/support/attachments/${pdf.id}`, headers: bearer(a.token) })).statusCode).toBe(200);
      expect((await t.app.inject({ url: `/api/v1/support/attachments/${pdf.id}`, headers: bearer(b.token) })).statusCode).toBe(404);
      expect((await t.app.inject({ url: `/api/v1/support/attachments/${att.id}`, headers: bearer(agent.token) })).statusCode).toBe(200);
      expect((await t.app.inject({ url: `/api/v1/support/attachments/${att.id}` })).statusCode).toBe(401);
    });
  });
});
