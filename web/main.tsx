// Entry: language from <html lang> (set by the server), one QueryClient, the router.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router';
import { ApiError } from './api/client.ts';
import { asLang, initI18n } from './i18n/i18n.ts';
import { router } from './routes.tsx';
import './styles.css';

initI18n(asLang(document.documentElement.lang));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not get better by asking again; network errors may.
      retry: (n, error) => !(error instanceof ApiError && error.status < 500) && n < 2,
      refetchOnWindowFocus: true,
      staleTime: 5_000,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
