// Risk staff (roles risk, admin): the rule set as editable JSON (saved as a new version; a refused
// rule is named beside the editor), a backtest of the edited set over stored decisions, and the
// decision log (RiskDecisions.tsx). The API checks roles, 2FA and step-up; this page asks for the
// step-up when the API does.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type ApiAnswer } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Submit } from '../../components/Form.tsx';
import { errorText, ErrorState, Loading } from '../../components/States.tsx';
import { useStepUp } from '../../components/useStepUp.tsx';
import { RiskDecisions } from './RiskDecisions.tsx';
import css from './Risk.module.css';

type Rules = ApiAnswer<'/api/v1/admin/risk/rules', 'get'>['rules'];
type Backtest = ApiAnswer<'/api/v1/admin/risk/backtest', 'post'>;

/** The edited text as a rule list, or the reason it is not one. */
function parseRules(text: string): { ok: true; rules: Rules } | { ok: false } {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? { ok: true, rules: v as Rules } : { ok: false };
  } catch {
    return { ok: false };
  }
}

/** A refusal of the rule set: which rule, and what is wrong, in the person's language. */
function ruleError(error: unknown, t: (k: string, o?: Record<string, unknown>) => string): string {
  if (error instanceof ApiError && error.code === 'rule_invalid') {
    const id = typeof error.problem.rule_id === 'string' ? error.problem.rule_id : '?';
    return t('risk.rule_refused', { id, detail: error.problem.detail });
  }
  return errorText(error, t);
}

export function RiskSection() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const rules = useQuery({ queryKey: ['risk-rules'], queryFn: () => api.get('/api/v1/admin/risk/rules') });
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const stepUp = useStepUp();
  if (rules.isPending) return <Card title={t('risk.title')}><Loading /></Card>;
  if (rules.error) return <Card title={t('risk.title')}><ErrorState error={rules.error} /></Card>;
  const current = text ?? JSON.stringify(rules.data.rules, null, 2);
  const fail = (e: unknown) => setError(ruleError(e, t));
  const save = stepUp.guard(async () => {
    const parsed = parseRules(current);
    if (!parsed.ok) return setError(t('risk.not_json'));
    const r = await api.put('/api/v1/admin/risk/rules', { body: { rules: parsed.rules } });
    setSaved(r.version);
    setText(null);
    await qc.invalidateQueries({ queryKey: ['risk-rules'] });
  }, fail);
  const onSave = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    await save().catch(fail).finally(() => setBusy(false));
  };
  return (
    <Card title={t('risk.title')}>
      <p className={ui.muted}>{t('risk.intro', { version: rules.data.version })}</p>
      <form onSubmit={(e) => void onSave(e)} aria-label={t('risk.rules')}>
        <label htmlFor="risk-rules" className={css.label}>{t('risk.rules')}</label>
        <textarea id="risk-rules" name="rules" className={css.editor} value={current} onChange={(e) => setText(e.target.value)} spellCheck={false} rows={16} aria-invalid={error ? true : undefined} aria-describedby={error ? 'risk-rules-err' : 'risk-rules-hint'} />
        <small id="risk-rules-hint" className={ui.muted}>{t('risk.rules_hint')}</small>
        {error && <p id="risk-rules-err" className={css.error} role="alert">{error}</p>}
        {saved !== null && <p role="status">{t('risk.saved', { version: saved })}</p>}
        {stepUp.prompt}
        <Submit busy={busy}>{t('risk.save')}</Submit>
      </form>
      <BacktestForm text={current} />
      <RiskDecisions />
    </Card>
  );
}

/** Runs the edited set over stored decisions between two times and shows each rule's hits. */
function BacktestForm({ text }: { text: string }) {
  const { t } = useTranslation();
  const [result, setResult] = useState<Backtest | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const dayAgo = new Date(Date.now() - 7 * 86400_000).toISOString().slice(0, 16);
  const run = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const parsed = parseRules(text);
      if (!parsed.ok) throw new Error(t('risk.not_json'));
      const from = new Date(String(d.get('from'))).toISOString();
      const to = d.get('to') ? new Date(String(d.get('to'))).toISOString() : new Date(Date.now() + 60_000).toISOString();
      setResult(await api.post('/api/v1/admin/risk/backtest', { body: { rules: parsed.rules, from, to } }));
    } catch (err) {
      setResult(null);
      setError(ruleError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="risk-backtest" className={css.block}>
      <h3 id="risk-backtest">{t('risk.backtest')}</h3>
      <p className={ui.muted}>{t('risk.backtest_hint')}</p>
      <form onSubmit={(e) => void run(e)} className={ui.row}>
        <Field label={t('risk.from')} name="from" type="datetime-local" defaultValue={dayAgo} required />
        <Field label={t('risk.to')} name="to" type="datetime-local" />
        <Submit busy={busy}>{t('risk.run_backtest')}</Submit>
      </form>
      <FormError error={error ?? undefined} />
      {result && (
        <div className={ui.tableWrap}>
          <p>{t('risk.backtest_events', { n: result.events })}</p>
          <table className={css.table}>
            <thead><tr><th scope="col">{t('risk.rule')}</th><th scope="col">{t('risk.hits')}</th><th scope="col">{t('risk.outcomes')}</th></tr></thead>
            <tbody>{result.results.map((r) => (
              <tr key={r.rule_id}><td><code>{r.rule_id}</code></td><td>{r.hits}</td><td>{Object.entries(r.actions).map(([a, n]) => `${t(`risk.action_${a}`)} ${n}`).join(' · ') || '—'}</td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
