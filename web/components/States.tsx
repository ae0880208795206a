// Loading, empty and error states, alike on every page.
import { useTranslation } from 'react-i18next';
import { Link, isRouteErrorResponse, useRouteError } from 'react-router';
import { ApiError } from '../api/client.ts';
import css from './States.module.css';

export function Loading() {
  const { t } = useTranslation();
  return <p className={css.loading} role="status" aria-live="polite">{t('common.loading')}</p>;
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className={css.empty}>{children}</div>;
}

/** The problem's own `detail` (in the person's language), or a generic sentence. */
export function errorText(error: unknown, t: (k: string) => string): string {
  if (error instanceof ApiError) return error.problem.detail;
  return t('common.network_error');
}

export function ErrorState({ error }: { error: unknown }) {
  const { t } = useTranslation();
  return <div className={css.error} role="alert">{errorText(error, t)}</div>;
}

export function RouteError() {
  const { t } = useTranslation();
  const error = useRouteError();
  const notFound = error === undefined || (isRouteErrorResponse(error) && error.status === 404);
  return (
    <div className={css.error} role="alert">
      <h1>{notFound ? t('common.not_found') : t('common.network_error')}</h1>
      <Link to="/wallet">{t('nav.wallet')}</Link>
    </div>
  );
}
