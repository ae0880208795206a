// The customer's support calls that the typed client cannot make: an attachment is uploaded as
// its raw bytes (POST /support/attachments?filename=), not as JSON.
import { ApiError, csrfToken, type ApiAnswer, type Problem } from '../../api/client.ts';

export type SupportCase = ApiAnswer<'/api/v1/support/cases/{id}', 'get'>;
export type CaseMessage = SupportCase['messages'][number];
export type Attachment = CaseMessage['attachments'][number];

export async function uploadAttachment(file: File): Promise<Attachment> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': file.type || 'application/octet-stream' };
  const csrf = csrfToken();
  if (csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(`/api/v1/support/attachments?filename=${encodeURIComponent(file.name)}`, { method: 'POST', headers, credentials: 'same-origin', body: file });
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError((data ?? { status: res.status, code: 'http_error', title: res.statusText, detail: res.statusText }) as Problem);
  return data as Attachment;
}

/** Every chosen file of a form's file input, uploaded one after the other; their ids. */
export async function uploadAll(files: FormDataEntryValue[]): Promise<string[]> {
  const ids: string[] = [];
  for (const f of files) if (f instanceof File && f.size > 0) ids.push((await uploadAttachment(f)).id);
  return ids;
}

export const attachmentUrl = (id: string) => `/api/v1/support/attachments/${encodeURIComponent(id)}`;
