// Pages behind sign-in: a visitor without a session (or whose session expired) goes to /login
// with `next` set to the page, and comes back to it after signing in.
import { Navigate, Outlet, useLocation } from 'react-router';
import { useMe } from '../api/session.ts';
import { ErrorState, Loading } from './States.tsx';

export function RequireSession() {
  const { me, error } = useMe();
  const loc = useLocation();
  if (error) return <ErrorState error={error} />;
  if (me === undefined) return <Loading />;
  if (me === null) return <Navigate to={`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  return <Outlet />;
}
