// "Freeze my account" (with a confirmation step) and, once frozen, the unfreeze request with its
// requirements and status.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type ApiAnswer } from '../../api/client.ts';
import { ME_KEY, type Me } from '../../api/session.ts';
import { Card, ui } from '../../components/Card.tsx';
import { FormError, useSubmit } from '../../components/Form.tsx';

type UnfreezeRequest = ApiAnswer<'/api/v1/me/unfreeze-request', 'post'>;

function UnfreezeRequestView({ r }: { r: UnfreezeRequest }) {
  const { t } = useTranslation();
  return (
    <div data-testid="unfreeze-request">
      <p>{t('security.request_status')} <span className={ui.badge}>{t(`unfreeze.${r.status}`, { defaultValue: r.status })}</span></p>
      <ul>{r.requirements.map((q) => <li key={q.code}>{q.met ? '✓' : '○'} {q.message}</li>)}</ul>
      <p className={ui.muted}>{t('security.cooldown', { hours: r.cooldown_hours })}</p>
    </div>
  );
}

export function FreezeCard({ me }: { me: Me }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [request, setRequest] = useState<UnfreezeRequest | null>(null);
  const freeze = useSubmit(async () => {
    await api.post('/api/v1/me/freeze', { body: { reason: 'user_request' } });
    setConfirming(false);
    await qc.invalidateQueries({ queryKey: ME_KEY });
  });
  const ask = useSubmit(async () => setRequest(await api.post('/api/v1/me/unfreeze-request')));
  if (me.status === 'frozen') {
    return (
      <Card title={t('security.unfreeze')}>
        <div id="unfreeze" />
        <p>{t('security.unfreeze_why')}</p>
        {request ? <UnfreezeRequestView r={request} /> : (
          <form onSubmit={ask.onSubmit}>
            <FormError error={ask.errors._form} />
            <button type="submit" className={ui.button} disabled={ask.busy}>{t('security.ask_unfreeze')}</button>
          </form>
        )}
      </Card>
    );
  }
  return (
    <Card title={t('security.freeze')}>
      <p className={ui.muted}>{t('security.freeze_why')}</p>
      {confirming ? (
        <form onSubmit={freeze.onSubmit} aria-label={t('security.freeze_confirm_label')}>
          <p role="alert"><strong>{t('security.freeze_confirm')}</strong></p>
          <FormError error={freeze.errors._form} />
          <div className={ui.row}>
            <button type="submit" className={ui.danger} disabled={freeze.busy}>{t('security.freeze_yes')}</button>
            <button type="button" className={ui.secondary} onClick={() => setConfirming(false)}>{t('common.cancel')}</button>
          </div>
        </form>
      ) : (
        <button type="button" className={ui.danger} onClick={() => setConfirming(true)}>{t('security.freeze')}</button>
      )}
    </Card>
  );
}
