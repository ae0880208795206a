// Password and email change (both step-up routes).
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { ME_KEY } from '../../api/session.ts';
import { Card } from '../../components/Card.tsx';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { useStepUp } from '../../components/useStepUp.tsx';

export function CredentialsCard() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const step = useStepUp();
  const [done, setDone] = useState<string | null>(null);
  const password = useSubmit(async (data) => {
    const new_password = String(data.get('new_password'));
    await step.guard(async () => {
      await api.post('/api/v1/me/password', { body: { new_password } });
      setDone(t('security.password_changed'));
    })();
  }, { weak_password: 'new_password' });
  const email = useSubmit(async (data) => {
    const new_email = String(data.get('new_email'));
    await step.guard(async () => {
      await api.post('/api/v1/me/email', { body: { new_email } });
      setDone(t('security.email_changed'));
      await qc.invalidateQueries({ queryKey: ME_KEY });
    })();
  }, { email_taken: 'new_email', invalid_email: 'new_email' });
  return (
    <Card title={t('security.credentials')}>
      <form onSubmit={password.onSubmit}>
        <Field label={t('security.new_password')} name="new_password" type="password" autoComplete="new-password" minLength={8} required error={password.errors.new_password} />
        <FormError error={password.errors._form} />
        <Submit busy={password.busy}>{t('security.change_password')}</Submit>
      </form>
      <form onSubmit={email.onSubmit}>
        <Field label={t('security.new_email')} name="new_email" type="email" autoComplete="email" required error={email.errors.new_email} />
        <FormError error={email.errors._form} />
        <Submit busy={email.busy}>{t('security.change_email')}</Submit>
      </form>
      {step.prompt}
      {done && <p role="status">{done}</p>}
    </Card>
  );
}
