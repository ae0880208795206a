// 2FA: set up (QR code of the otpauth URL and the secret to type), enable with a first code,
// then the recovery codes shown once.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { QRCodeSVG } from 'qrcode.react';
import { api } from '../../api/client.ts';
import { ME_KEY, type Me } from '../../api/session.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { useStepUp } from '../../components/useStepUp.tsx';
import { CopyButton } from '../../components/CopyButton.tsx';
import css from './Security.module.css';

export function TotpCard({ me }: { me: Me }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [setup, setSetup] = useState<{ secret: string; otpauth_url: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const step = useStepUp();
  const start = useSubmit(step.guard(async () => setSetup(await api.post('/api/v1/me/totp/setup')), (e) => start.fail(e)));
  const enable = useSubmit(async (data) => {
    const r = await api.post('/api/v1/me/totp/enable', { body: { code: String(data.get('code')).trim() } });
    setCodes(r.recovery_codes);
    setSetup(null);
    await qc.invalidateQueries({ queryKey: ME_KEY });
  }, { invalid_totp: 'code', totp_invalid: 'code' });
  return (
    <Card title={t('security.totp')}>
      {codes ? (
        <>
          <p role="status"><strong>{t('security.totp_on')}</strong> {t('security.recovery_once')}</p>
          <ol className={css.codes} data-testid="recovery-codes">{codes.map((c) => <li key={c}>{c}</li>)}</ol>
          <CopyButton text={codes.join('\n')} />
        </>
      ) : me.totp_enabled ? (
        <p><span className={`${ui.badge} ${ui.ok}`}>{t('security.totp_on')}</span></p>
      ) : setup ? (
        <form onSubmit={enable.onSubmit}>
          <p>{t('security.scan')}</p>
          <div className={css.qr}><QRCodeSVG value={setup.otpauth_url} size={168} title={t('security.totp_qr')} /></div>
          <p>{t('security.or_type')} <code data-testid="totp-secret">{setup.secret}</code></p>
          <Field label={t('security.first_code')} name="code" inputMode="numeric" autoComplete="one-time-code" required error={enable.errors.code} />
          <FormError error={enable.errors._form} />
          <Submit busy={enable.busy}>{t('security.enable')}</Submit>
        </form>
      ) : (
        <form onSubmit={start.onSubmit}>
          <p className={ui.muted}>{t('security.totp_why')}</p>
          <FormError error={start.errors._form} />
          <Submit busy={start.busy}>{t('security.setup')}</Submit>
        </form>
      )}
      {step.prompt}
    </Card>
  );
}
