// Sign-in: email and password, and a one-time-code field once the API answers totp_required.
// The session is the HttpOnly cookie the API sets; the token in the answer is not kept.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../api/client.ts';
import { ME_KEY, useMe } from '../../api/session.ts';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import css from './Auth.module.css';

/** Only paths of this app: never send a person to another site after sign-in. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/wallet';
}

export function LoginPage() {
  const { t } = useTranslation();
  const { me } = useMe();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [needTotp, setNeedTotp] = useState(false);
  const next = safeNext(params.get('next'));
  const form = useSubmit(async (data) => {
    const totp = String(data.get('totp_code') ?? '').trim();
    try {
      await api.post('/api/v1/auth/login', { body: { email: String(data.get('email')), password: String(data.get('password')), ...(totp ? { totp_code: totp } : {}) } });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'totp_required') setNeedTotp(true);
      throw error;
    }
    await qc.invalidateQueries({ queryKey: ME_KEY });
    await navigate(next, { replace: true });
  }, { invalid_credentials: 'password', totp_required: 'totp_code', invalid_totp: 'totp_code', totp_invalid: 'totp_code' });
  if (me) return <Navigate to={next} replace />;
  return (
    <div className={css.box}>
      <h1>{t('auth.sign_in')}</h1>
      {params.get('next') && <p className={css.note}>{t('auth.session_needed')}</p>}
      <form onSubmit={form.onSubmit} noValidate={false}>
        <Field label={t('auth.email')} name="email" type="email" autoComplete="username" required error={form.errors.email} />
        <Field label={t('auth.password')} name="password" type="password" autoComplete="current-password" required error={form.errors.password} />
        {needTotp && <Field label={t('auth.totp')} name="totp_code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required autoFocus error={form.errors.totp_code} hint={t('auth.totp_hint')} />}
        <FormError error={form.errors._form} />
        <Submit busy={form.busy}>{t('auth.sign_in')}</Submit>
      </form>
      <p>{t('auth.no_account')} <Link to="/register">{t('auth.register')}</Link></p>
    </div>
  );
}
