// /help/cases/{id}: one of my cases — status, when to expect a reply (local time and a
// countdown), the evidence captured, and the conversation as a chat. New messages and status
// changes arrive through /stream (web/live/stream.ts), so an agent's reply shows without reload.
import { Fragment, useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client.ts';
import { Card, PageTitle, ui } from '../../components/Card.tsx';
import { FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime, formatDuration } from '../../format.ts';
import { FilesField, TextArea } from './SupportCases.tsx';
import { attachmentUrl, uploadAll, type CaseMessage, type SupportCase } from './support-api.ts';
import css from './support.module.css';

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(h);
  }, [everyMs]);
  return now;
}

function ExpectedReply({ at }: { at: string }) {
  const { t, i18n } = useTranslation();
  const left = Date.parse(at) - useNow(30_000);
  return (
    <p data-testid="expected-reply">
      {t('support.expected_reply', { when: formatDateTime(at, i18n.language) })}{' '}
      <span className={ui.muted}>({left > 0 ? t('support.in', { left: formatDuration(left, i18n.language) }) : t('support.any_moment')})</span>
    </p>
  );
}

export function Bubble({ m }: { m: CaseMessage }) {
  const { t, i18n } = useTranslation();
  const kind = m.internal ? 'internal' : m.author.type;
  return (
    <li className={`${css.bubble} ${css[kind] ?? ''}`} data-author={m.author.type} data-internal={m.internal || undefined} data-testid="message">
      <div className={css.meta}>
        <strong>{m.internal ? t('support.internal_note') : m.author.type === 'customer' ? t('support.you') : m.author.name ?? t(`support.author.${m.author.type}`)}</strong>{' '}
        <time dateTime={m.at}>{formatDateTime(m.at, i18n.language)}</time>
      </div>
      <div className={css.body}>{m.body}</div>
      {m.attachments.length > 0 && (
        <ul className={css.files}>{m.attachments.map((a) => <li key={a.id}><a href={attachmentUrl(a.id)}>{a.filename}</a> <small>({Math.ceil(a.size / 1024)} KB)</small></li>)}</ul>
      )}
    </li>
  );
}

function Evidence({ c }: { c: SupportCase }) {
  const { t } = useTranslation();
  if (c.evidence.length === 0 && !c.payment_id && !c.tx_hash) return null;
  return (
    <Card title={t('support.evidence')}>
      <dl className={ui.dl}>
        {c.payment_id && <><dt>{t('support.payment')}</dt><dd><Link to={`/payments/${c.payment_id}`}>{c.payment_id}</Link></dd></>}
        {c.tx_hash && <><dt>{t('support.tx_hash')}</dt><dd className="mono">{c.tx_hash}</dd></>}
        {c.evidence.map((e) => <Fragment key={e.id}><dt>{t(`support.evidence_kind.${e.kind}`, { defaultValue: e.kind })}</dt><dd>{summary(e.kind, e.data, t)}</dd></Fragment>)}
      </dl>
    </Card>
  );
}

/** One line per evidence item, in the reader's language: the API's own explanation, else a translated status or verdict. */
function summary(kind: string, data: unknown, t: TFunction): string {
  if (!data || typeof data !== 'object') return String(data ?? '');
  const d = data as Record<string, unknown>;
  const explanation = d.explanation as { message?: string } | undefined;
  if (explanation?.message) return explanation.message;
  if (typeof d.status === 'string') return kind === 'account' ? t(`account.${d.status}`, { defaultValue: d.status }) : t(`status.${d.status}`, { defaultValue: d.status });
  if (typeof d.verdict === 'string') return t(`verdict.${d.verdict}`, { defaultValue: d.verdict });
  return Object.keys(d).slice(0, 4).join(', ');
}

function Reply({ c }: { c: SupportCase }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const send = useSubmit(async (data) => {
    const attachment_ids = await uploadAll(data.getAll('files'));
    const r = await api.post('/api/v1/support/cases/{id}/messages', { path: { id: c.id }, body: { body: String(data.get('body')).trim(), ...(attachment_ids.length ? { attachment_ids } : {}) } });
    qc.setQueryData(['support-case', c.id], r.case);
    void qc.invalidateQueries({ queryKey: ['support-cases'] });
    (document.getElementById('reply-form') as HTMLFormElement | null)?.reset();
  });
  if (c.status === 'closed') return <p className={ui.muted}>{t('support.closed_note')} <Link to="/help">{t('support.open_new')}</Link></p>;
  return (
    <form id="reply-form" onSubmit={send.onSubmit} data-testid="reply">
      <TextArea label={t('support.your_message')} name="body" required maxLength={20000} rows={3} />
      <FilesField label={t('support.attachments')} />
      <FormError error={send.errors._form} />
      <Submit busy={send.busy}>{t('support.send')}</Submit>
    </form>
  );
}

export function CasePage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: ['support-case', id], queryFn: () => api.get('/api/v1/support/cases/{id}', { path: { id } }) });
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  const c = q.data;
  return (
    <>
      <p><Link to="/help">← {t('support.back')}</Link></p>
      <PageTitle>#{c.number} {c.subject}</PageTitle>
      <p>
        <span className={ui.badge} data-testid="case-status" data-status={c.status}>{t(`support.status.${c.status}`, { defaultValue: c.status })}</span>
      </p>
      {c.expected_reply_by && c.status !== 'resolved' && c.status !== 'closed' && <ExpectedReply at={c.expected_reply_by} />}
      <div className={css.layout}>
        <Card title={t('support.conversation')}>
          <ol className={css.chat} data-testid="chat" aria-live="polite">{c.messages.filter((m) => !m.internal).map((m) => <Bubble key={m.id} m={m} />)}</ol>
          <Reply c={c} />
        </Card>
        <Evidence c={c} />
      </div>
    </>
  );
}
