// "Confirm it is you": the API answered 401 step_up_required with the factors it accepts
// (password, totp, recovery_code); POST /auth/step-up opens a 15-minute window.
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { Field, FormError, Submit, useSubmit } from './Form.tsx';
import css from './Form.module.css';

export function StepUp({ factors, onDone }: { factors: string[]; onDone: () => void }) {
  const { t } = useTranslation();
  const usePassword = factors.includes('password');
  const form = useSubmit(async (data) => {
    const value = String(data.get('factor')).trim();
    await api.post('/api/v1/auth/step-up', { body: usePassword ? { password: value } : { totp_code: value } });
    onDone();
  }, { step_up_failed: 'factor' });
  return (
    <form onSubmit={form.onSubmit} className={css.stepUp} aria-label={t('stepup.title')}>
      <p><strong>{t('stepup.title')}</strong> {t('stepup.why')}</p>
      {usePassword
        ? <Field label={t('auth.password')} name="factor" type="password" autoComplete="current-password" required error={form.errors.factor} />
        : <Field label={t('auth.totp')} name="factor" inputMode="numeric" autoComplete="one-time-code" required error={form.errors.factor} />}
      <FormError error={form.errors._form} />
      <Submit busy={form.busy}>{t('stepup.confirm')}</Submit>
    </form>
  );
}
