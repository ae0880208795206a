// Who is signed in (GET /me), shared by every page through TanStack Query.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, type ApiAnswer } from './client.ts';

export type Me = ApiAnswer<'/api/v1/me', 'get'>;
export type Payment = ApiAnswer<'/api/v1/payments/{id}', 'get'>;

export const ME_KEY = ['me'] as const;

/** The signed-in user, null when signed out (401), undefined while loading. */
export function useMe(): { me: Me | null | undefined; error: unknown } {
  const q = useQuery({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return await api.get('/api/v1/me');
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 30_000,
  });
  return { me: q.data, error: q.error };
}

export function useSignOut(): () => Promise<void> {
  const qc = useQueryClient();
  return async () => {
    await api.post('/api/v1/auth/logout').catch(() => undefined);
    qc.clear();
    qc.setQueryData(ME_KEY, null);
  };
}

export function isStaff(me: Me | null | undefined): boolean {
  return !!me?.roles.some((r) => r === 'admin' || r === 'agent' || r === 'risk');
}
