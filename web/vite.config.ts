// Vite builds web/ into web/dist (served by Fastify, src/web/web-routes.ts); `npm run dev:web`
// serves it with hot reload and proxies the API to the platform on SETTLE_PORT (default 3000).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const api = `http://127.0.0.1:${process.env.SETTLE_PORT ?? '3000'}`;

export const config = defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false, target: 'es2022' },
  server: { port: 5173, proxy: { '/api': { target: api, changeOrigin: false } } },
});
// Vite looks for a default export.
export { config as default };
