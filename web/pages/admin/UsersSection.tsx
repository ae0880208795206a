// Staff: look a user up by id, then freeze, unfreeze, restrict or set the KYC level. The API
// checks the role of every call; this page only offers what exists.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import { ErrorState, Loading } from '../../components/States.tsx';

const FREEZE_REASONS = ['abnormal_login', 'abnormal_activity', 'unverified_identity', 'user_request', 'compliance'] as const;

function UserActions({ id }: { id: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-user', id], queryFn: () => api.get('/api/v1/admin/users/{id}', { path: { id } }) });
  const refresh = () => qc.invalidateQueries({ queryKey: ['admin-user', id] });
  const freeze = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/freeze', { path: { id }, body: { reason: String(d.get('reason')) as (typeof FREEZE_REASONS)[number] } }); await refresh(); });
  const unfreeze = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/unfreeze', { path: { id }, body: { reason: String(d.get('reason')) } }); await refresh(); });
  const restrict = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/restrict', { path: { id }, body: { reason: String(d.get('reason')) } }); await refresh(); });
  const kyc = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/kyc-level', { path: { id }, body: { level: Number(d.get('level')) } }); await refresh(); });
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  const u = q.data.user;
  return (
    <>
      <dl className={ui.dl}>
        <dt>{t('auth.email')}</dt><dd>{u.email}</dd>
        <dt>{t('admin.status')}</dt><dd><span className={ui.badge} data-testid="admin-user-status">{t(`account.${u.status}`)}</span></dd>
        <dt>{t('admin.kyc')}</dt><dd>{u.kyc_level}</dd>
        <dt>{t('admin.sessions')}</dt><dd>{q.data.live_sessions}</dd>
      </dl>
      {u.freezes.map((f) => <p key={f.since} className={ui.muted}>{f.reason}: {f.message}</p>)}
      <div className={ui.grid}>
        {u.status === 'frozen' ? (
          <form onSubmit={unfreeze.onSubmit} aria-label={t('admin.unfreeze')}>
            <Field label={t('admin.reason')} name="reason" required minLength={3} />
            <FormError error={unfreeze.errors._form} />
            <Submit busy={unfreeze.busy}>{t('admin.unfreeze')}</Submit>
          </form>
        ) : (
          <form onSubmit={freeze.onSubmit} aria-label={t('admin.freeze')}>
            <Select label={t('admin.reason')} name="reason" options={FREEZE_REASONS.map((r) => ({ value: r, label: t(`freeze_reason.${r}`) }))} />
            <FormError error={freeze.errors._form} />
            <Submit busy={freeze.busy}>{t('admin.freeze')}</Submit>
          </form>
        )}
        <form onSubmit={restrict.onSubmit} aria-label={t('admin.restrict')}>
          <Field label={t('admin.reason')} name="reason" required minLength={3} />
          <FormError error={restrict.errors._form} />
          <Submit busy={restrict.busy}>{t('admin.restrict')}</Submit>
        </form>
        <form onSubmit={kyc.onSubmit} aria-label={t('admin.kyc')}>
          <Field label={t('admin.kyc')} name="level" type="number" min={0} max={3} defaultValue={u.kyc_level} required />
          <FormError error={kyc.errors._form} />
          <Submit busy={kyc.busy}>{t('admin.set_kyc')}</Submit>
        </form>
      </div>
    </>
  );
}

export function UsersSection() {
  const { t } = useTranslation();
  const [id, setId] = useState<string | null>(null);
  const find = useSubmit(async (d) => setId(String(d.get('user_id')).trim()));
  return (
    <Card title={t('admin.users')}>
      <form onSubmit={find.onSubmit} className={ui.row}>
        <Field label={t('admin.user_id')} name="user_id" required autoComplete="off" />
        <Submit busy={false}>{t('admin.find')}</Submit>
      </form>
      {id && <UserActions key={id} id={id} />}
    </Card>
  );
}
