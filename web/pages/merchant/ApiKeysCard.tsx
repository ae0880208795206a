// API keys: create (shown once, with copy), list, revoke. Creating the first key makes the
// account a merchant.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { ME_KEY } from '../../api/session.ts';
import { Card, ui } from '../../components/Card.tsx';
import { CopyButton } from '../../components/CopyButton.tsx';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { useStepUp } from '../../components/useStepUp.tsx';
import { formatDateTime } from '../../format.ts';
import css from './Merchant.module.css';

export function ApiKeysCard() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const step = useStepUp();
  const [created, setCreated] = useState<string | null>(null);
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api.get('/api/v1/api-keys') });
  const create = useSubmit(async (data) => {
    const name = String(data.get('name')).trim();
    await step.guard(async () => {
      const k = await api.post('/api/v1/api-keys', { body: { name } });
      setCreated(k.key);
      await qc.invalidateQueries({ queryKey: ['api-keys'] });
      await qc.invalidateQueries({ queryKey: ME_KEY });
    }, (e) => create.fail(e))();
  });
  const revoke = async (id: string) => {
    await api.delete('/api/v1/api-keys/{id}', { path: { id } });
    await qc.invalidateQueries({ queryKey: ['api-keys'] });
  };
  const live = (keys.data?.data ?? []).filter((k) => !k.revoked_at);
  return (
    <Card title={t('merchant.api_keys')}>
      {created && (
        <div className={css.secret} role="status">
          <p><strong>{t('merchant.key_once')}</strong></p>
          <code data-testid="api-key">{created}</code> <CopyButton text={created} />
        </div>
      )}
      <form onSubmit={create.onSubmit}>
        <Field label={t('merchant.key_name')} name="name" required maxLength={100} />
        <FormError error={create.errors._form} />
        <Submit busy={create.busy}>{t('merchant.create_key')}</Submit>
      </form>
      {step.prompt}
      {keys.isPending ? <Loading /> : keys.error ? <ErrorState error={keys.error} /> : live.length === 0 ? <Empty>{t('merchant.no_keys')}</Empty> : (
        <ul className={css.list}>
          {live.map((k) => (
            <li key={k.id}>
              <strong>{k.name}</strong> <code>{k.prefix}…</code>
              <div className={ui.muted}>{k.scopes.join(', ')} · {formatDateTime(k.created_at, i18n.language)}</div>
              <button type="button" className={ui.secondary} onClick={() => void revoke(k.id)}>{t('merchant.revoke')}</button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
