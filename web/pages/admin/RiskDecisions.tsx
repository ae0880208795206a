// The risk decision log: newest first, filtered by a payment, order or user id, paged by cursor;
// each decision with its action, the rule that decided it and every rule that fired.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { ui } from '../../components/Card.tsx';
import { Field } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';
import css from './Risk.module.css';

const PAGE = 20;

export function RiskDecisions() {
  const { t, i18n } = useTranslation();
  const [subject, setSubject] = useState('');
  const [cursor, setCursor] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ['risk-decisions', subject, cursor],
    queryFn: () => api.get('/api/v1/admin/risk/decisions', { query: { limit: PAGE, ...(subject ? { subject } : {}), ...(cursor ? { cursor } : {}) } }),
  });
  const filter = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSubject(String(new FormData(e.currentTarget).get('subject') ?? '').trim());
    setCursor(null);
  };
  return (
    <section aria-labelledby="risk-decisions" className={css.block}>
      <h3 id="risk-decisions">{t('risk.decisions')}</h3>
      <form onSubmit={filter} className={ui.row}>
        <Field label={t('risk.subject')} name="subject" hint={t('risk.subject_hint')} maxLength={100} />
        <button type="submit" className={ui.secondary}>{t('risk.filter')}</button>
      </form>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('risk.no_decisions')}</Empty> : (
        <div className={ui.tableWrap}>
          <table className={css.table}>
            <thead><tr><th scope="col">{t('risk.at')}</th><th scope="col">{t('risk.event')}</th><th scope="col">{t('risk.subject_col')}</th><th scope="col">{t('risk.action')}</th><th scope="col">{t('risk.fired')}</th></tr></thead>
            <tbody>{q.data.data.map((d) => (
              <tr key={d.id}>
                <td>{formatDateTime(d.at, i18n.language)}</td>
                <td>{t(`risk.event_${d.event}`)}</td>
                <td><code className={css.id}>{d.subject_id}</code></td>
                <td><span className={`${ui.badge} ${d.action === 'allow' ? ui.ok : d.action === 'review' || d.action === 'step_up' ? ui.warn : ui.bad}`}>{t(`risk.action_${d.action}`)}</span>{d.deciding_rule && <> <code>{d.deciding_rule}</code></>}</td>
                <td>{d.fired.length === 0 ? '—' : d.fired.map((f) => `${f.rule_id}${f.mode === 'shadow' ? ` (${t('risk.shadow')})` : ''}`).join(', ')}</td>
              </tr>
            ))}</tbody>
          </table>
          {q.data.next_cursor && <button type="button" className={ui.secondary} onClick={() => setCursor(q.data.next_cursor)}>{t('risk.older')}</button>}
        </div>
      )}
    </section>
  );
}
