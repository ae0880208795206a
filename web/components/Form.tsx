// Plain HTML forms with labelled fields; an API refusal is shown from the problem's `detail`
// (in the person's language) beside the field it concerns, linked with aria-describedby.
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client.ts';
import { errorText } from './States.tsx';
import css from './Form.module.css';

export type FieldErrors = Record<string, string>;

/** Which field a problem is about: validation paths ('/amount'), else the form's own code map. */
export function problemField(error: unknown, codeFields: Record<string, string>): string | null {
  if (!(error instanceof ApiError)) return null;
  const path = error.problem.errors?.[0]?.path;
  if (path && /^\/\w+$/.test(path)) return path.slice(1);
  return codeFields[error.code] ?? null;
}

/** const f = useSubmit(async (data) => …, { invalid_address: 'to_address' }); <form onSubmit={f.onSubmit}> */
export function useSubmit(action: (data: FormData) => Promise<void>, codeFields: Record<string, string> = {}) {
  const { t } = useTranslation();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      await action(new FormData(e.currentTarget));
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  };
  /** Shows a refusal beside its field (or the form): also for an action retried after a step-up. */
  const fail = (error: unknown) => setErrors({ [problemField(error, codeFields) ?? '_form']: errorText(error, t) });
  return { errors, busy, onSubmit: (e: React.FormEvent<HTMLFormElement>) => void onSubmit(e), setErrors, fail };
}

interface FieldProps extends React.InputHTMLAttributes<HTMLInputElement> {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: string | undefined;
}

export function Field({ label, name, error, hint, ...input }: FieldProps) {
  const id = useId();
  const described = [error ? `${id}-err` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={css.field}>
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={described} {...input} />
      {hint && <small id={`${id}-hint`} className={css.hint}>{hint}</small>}
      {error && <small id={`${id}-err`} className={css.error} role="alert">{error}</small>}
    </div>
  );
}

export function FormError({ error }: { error?: string | undefined }) {
  return error ? <p className={css.formError} role="alert">{error}</p> : null;
}

export function Submit({ busy, children }: { busy: boolean; children: React.ReactNode }) {
  return <button type="submit" className={css.submit} disabled={busy} aria-busy={busy}>{children}</button>;
}

interface SelectProps extends React.SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  name: string;
  options: Array<{ value: string; label: string }>;
  error?: string | undefined;
}

export function Select({ label, name, options, error, ...select }: SelectProps) {
  const id = useId();
  return (
    <div className={css.field}>
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-err` : undefined} {...select}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
      {error && <small id={`${id}-err`} className={css.error} role="alert">{error}</small>}
    </div>
  );
}
