// Registration, then straight to sign-in with the same email.
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client.ts';
import { ME_KEY } from '../../api/session.ts';
import { asLang } from '../../i18n/i18n.ts';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import css from './Auth.module.css';

export function RegisterPage() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const form = useSubmit(async (data) => {
    const email = String(data.get('email'));
    const password = String(data.get('password'));
    await api.post('/api/v1/auth/register', { body: { email, password, locale: asLang(i18n.language) } });
    await api.post('/api/v1/auth/login', { body: { email, password } });
    await qc.invalidateQueries({ queryKey: ME_KEY });
    await navigate('/wallet', { replace: true });
  }, { email_taken: 'email', weak_password: 'password', password_too_weak: 'password' });
  return (
    <div className={css.box}>
      <h1>{t('auth.register')}</h1>
      <form onSubmit={form.onSubmit}>
        <Field label={t('auth.email')} name="email" type="email" autoComplete="email" required error={form.errors.email} />
        <Field label={t('auth.password')} name="password" type="password" autoComplete="new-password" minLength={8} required error={form.errors.password} hint={t('auth.password_hint')} />
        <FormError error={form.errors._form} />
        <Submit busy={form.busy}>{t('auth.create_account')}</Submit>
      </form>
      <p>{t('auth.have_account')} <Link to="/login">{t('auth.sign_in')}</Link></p>
    </div>
  );
}
