// Every page path of API.md part 2 that exists today, deep-linkable. Pages other than sign-in
// and the wallet load on demand, so that a first visit downloads little.
import { createBrowserRouter, Navigate } from 'react-router';
import { Layout } from './components/Layout.tsx';
import { RequireSession } from './components/RequireSession.tsx';
import { Loading, RouteError } from './components/States.tsx';
import { LoginPage } from './pages/auth/LoginPage.tsx';
import { WalletPage } from './pages/wallet/WalletPage.tsx';

const lazy = (load: () => Promise<{ Component: React.ComponentType }>) => ({ lazy: load });

export const router = createBrowserRouter([
  {
    element: <Layout />,
    errorElement: <RouteError />,
    hydrateFallbackElement: <Loading />,
    children: [
      { path: '/', element: <Navigate to="/wallet" replace /> },
      { path: '/login', element: <LoginPage /> },
      { path: '/register', ...lazy(() => import('./pages/auth/RegisterPage.tsx').then((m) => ({ Component: m.RegisterPage }))) },
      { path: '/status', ...lazy(() => import('./pages/status/StatusPage.tsx').then((m) => ({ Component: m.StatusPage }))) },
      {
        element: <RequireSession />,
        children: [
          { path: '/wallet', element: <WalletPage /> },
          { path: '/payments', ...lazy(() => import('./pages/payments/PaymentsPage.tsx').then((m) => ({ Component: m.PaymentsPage }))) },
          { path: '/payments/:id', ...lazy(() => import('./pages/payments/PaymentPage.tsx').then((m) => ({ Component: m.PaymentPage }))) },
          { path: '/help', ...lazy(() => import('./pages/help/HelpPage.tsx').then((m) => ({ Component: m.HelpPage }))) },
          { path: '/help/cases/:id', ...lazy(() => import('./pages/help/CasePage.tsx').then((m) => ({ Component: m.CasePage }))) },
          { path: '/security', ...lazy(() => import('./pages/security/SecurityPage.tsx').then((m) => ({ Component: m.SecurityPage }))) },
          { path: '/merchant', ...lazy(() => import('./pages/merchant/MerchantPage.tsx').then((m) => ({ Component: m.MerchantPage }))) },
          { path: '/notifications', ...lazy(() => import('./pages/notifications/NotificationsPage.tsx').then((m) => ({ Component: m.NotificationsPage }))) },
          { path: '/admin', ...lazy(() => import('./pages/admin/AdminPage.tsx').then((m) => ({ Component: m.AdminPage }))) },
        ],
      },
      { path: '*', element: <RouteError /> },
    ],
  },
]);
