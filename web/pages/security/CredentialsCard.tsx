// Password and email change (both step-up routes), and confirming the email with the code mailed
// to it: only a confirmed address receives transfers, and a changed address starts unconfirmed.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { ME_KEY, useMe } from '../../api/session.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { useStepUp } from '../../components/useStepUp.tsx';
import css from './Security.module.css';

function ConfirmEmail({ email }: { email: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [sent, setSent] = useState<string | null>(null);
  const verify = useSubmit(async (data) => {
    await api.post('/api/v1/me/email/verify', { body: { code: String(data.get('email_code')).trim() } });
    await Promise.all([qc.invalidateQueries({ queryKey: ME_KEY }), qc.invalidateQueries({ queryKey: ['security-events'] })]);
  }, { invalid_code: 'email_code' });
  const resend = useSubmit(async () => {
    const r = await api.post('/api/v1/me/email/verification');
    setSent(t('email_confirm.sent', { email: r.email }));
  });
  return (
    <div data-testid="email-confirm" className={css.confirm}>
      <p>{t('email_confirm.why', { email })}</p>
      <form onSubmit={verify.onSubmit} aria-label={t('email_confirm.title')}>
        <Field label={t('email_confirm.code')} name="email_code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required error={verify.errors.email_code} />
        <FormError error={verify.errors._form} />
        <Submit busy={verify.busy}>{t('email_confirm.confirm')}</Submit>
      </form>
      <form onSubmit={resend.onSubmit} aria-label={t('email_confirm.resend')}>
        <FormError error={resend.errors._form} />
        <button type="submit" className={ui.secondary} disabled={resend.busy}>{t('email_confirm.resend')}</button>
      </form>
      {sent && <p role="status">{sent}</p>}
    </div>
  );
}

export function CredentialsCard() {
  const { me } = useMe();
  const { t } = useTranslation();
  const qc = useQueryClient();
  const step = useStepUp();
  const [done, setDone] = useState<string | null>(null);
  const password = useSubmit(async (data) => {
    const new_password = String(data.get('new_password'));
    await step.guard(async () => {
      await api.post('/api/v1/me/password', { body: { new_password } });
      setDone(t('security.password_changed'));
      await qc.invalidateQueries({ queryKey: ['security-events'] });
    }, (e) => password.fail(e))();
  }, { weak_password: 'new_password' });
  const email = useSubmit(async (data) => {
    const new_email = String(data.get('new_email'));
    await step.guard(async () => {
      await api.post('/api/v1/me/email', { body: { new_email } });
      setDone(t('security.email_changed'));
      await Promise.all([qc.invalidateQueries({ queryKey: ME_KEY }), qc.invalidateQueries({ queryKey: ['security-events'] })]);
    }, (e) => email.fail(e))();
  }, { email_taken: 'new_email', invalid_email: 'new_email' });
  return (
    <Card title={t('security.credentials')}>
      <div className={css.forms}>
        {me && !me.email_verified && <ConfirmEmail email={me.email} />}
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
      </div>
      {step.prompt}
      {done && <p role="status" data-testid="credentials-done">{done}</p>}
    </Card>
  );
}
