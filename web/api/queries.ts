// Queries several pages share.
import { useQuery } from '@tanstack/react-query';
import { api, type ApiAnswer } from './client.ts';

export type AssetInfo = ApiAnswer<'/api/v1/assets', 'get'>['data'][number];

export function useAssets() {
  return useQuery({ queryKey: ['assets'], queryFn: () => api.get('/api/v1/assets'), staleTime: 300_000 });
}

export function useBalances() {
  return useQuery({ queryKey: ['balances'], queryFn: () => api.get('/api/v1/balances') });
}
