// On /help: open a case (about one of my payments or the hash I just diagnosed, with files) and
// the list of my cases, each a link to /help/cases/{id}.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import form from '../../components/Form.module.css';
import { ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';
import { uploadAll } from './support-api.ts';

export function TextArea({ label, name, ...rest }: React.TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string; name: string }) {
  const id = `ta-${name}`;
  return (
    <div className={form.field}>
      <label htmlFor={id}>{label}</label>
      <textarea id={id} name={name} rows={4} {...rest} />
    </div>
  );
}

export function FilesField({ label }: { label: string }) {
  return (
    <div className={form.field}>
      <label htmlFor="case-files">{label}</label>
      <input id="case-files" type="file" name="files" multiple accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain" />
    </div>
  );
}

export function OpenCaseForm({ options, txHash }: { options: Array<{ value: string; label: string }>; txHash: string | null }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const open = useSubmit(async (data) => {
    const attachment_ids = await uploadAll(data.getAll('files'));
    const pick = String(data.get('about') ?? '');
    const c = await api.post('/api/v1/support/cases', {
      body: {
        subject: String(data.get('subject')).trim(),
        body: String(data.get('body')).trim(),
        ...(pick === 'hash' && txHash ? { tx_hash: txHash } : pick ? { payment_id: pick } : {}),
        ...(attachment_ids.length ? { attachment_ids } : {}),
      },
    });
    await qc.invalidateQueries({ queryKey: ['support-cases'] });
    void navigate(`/help/cases/${c.id}`);
  });
  const choices = [{ value: '', label: t('support.about_nothing') }, ...(txHash ? [{ value: 'hash', label: t('support.about_hash', { hash: `${txHash.slice(0, 10)}…` }) }] : []), ...options];
  return (
    <Card title={t('support.open_case')}>
      <form onSubmit={open.onSubmit} data-testid="open-case">
        <Field label={t('support.subject')} name="subject" required maxLength={200} />
        <TextArea label={t('support.body')} name="body" required maxLength={20000} />
        <Select label={t('support.about')} name="about" options={choices} defaultValue={txHash ? 'hash' : ''} />
        <FilesField label={t('support.attachments')} />
        <FormError error={open.errors._form} />
        <Submit busy={open.busy}>{t('support.send_case')}</Submit>
      </form>
    </Card>
  );
}

export function MyCases() {
  const { t, i18n } = useTranslation();
  const cases = useQuery({ queryKey: ['support-cases'], queryFn: () => api.get('/api/v1/support/cases', { query: { limit: 50 } as never }) });
  return (
    <Card title={t('support.my_cases')}>
      {cases.isPending ? <Loading /> : cases.error ? <ErrorState error={cases.error} /> : cases.data.data.length === 0 ? <p className={ui.muted}>{t('support.no_cases')}</p> : (
        <ul className="case-list" data-testid="case-list">
          {cases.data.data.map((c) => (
            <li key={c.id}>
              <Link to={`/help/cases/${c.id}`}>#{c.number} {c.subject}</Link>{' '}
              <span className={ui.badge} data-status={c.status}>{t(`support.status.${c.status}`, { defaultValue: c.status })}</span>{' '}
              <small className={ui.muted}>{formatDateTime(c.updated_at, i18n.language)}</small>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
