import { defineConfig } from 'vitest/config';

// Tests run in forked processes: several suites start child processes (workers killed with
// SIGKILL, anvil) and native modules (better-sqlite3) are happiest without worker threads.
export const config = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'web/dist/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
// Vitest looks for a default export; this is the one place we give it one.
export { config as default };
