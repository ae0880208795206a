// Web app benchmark: what a first visit downloads (JavaScript and CSS, gzip-compressed as a
// proxy or CDN would serve them; sizes as the browser received them, every file the page
// loaded) and the time from navigation to the wallet shown (balances on screen) for a signed-in
// person, cold (fresh browser profile: nothing cached) and warm (assets cached), on the real
// platform (`settle start`, local dev chain) with Debian's chromium.
//
//   npm run bench:web            SETTLE_BENCH_RUNS=7 (navigations per figure)
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchBrowser, startPlatform } from '../test/e2e/platform-kit.ts';

const RUNS = Number(process.env.SETTLE_BENCH_RUNS ?? 7);
const PASSWORD = 'correct horse battery staple 9';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** Navigates to /wallet and waits for the balances -> milliseconds. */
async function walletShown(page: Page, base: string): Promise<number> {
  const t0 = performance.now();
  await page.goto(`${base}/wallet`, { waitUntil: 'commit' });
  await page.locator('[data-asset]').first().waitFor({ timeout: 30_000 });
  return performance.now() - t0;
}

const platform = await startPlatform();
const browser = await launchBrowser();
try {
  const base = platform.base;
  const reg = await fetch(`${base}/api/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.test', password: PASSWORD }) });
  if (reg.status !== 201) throw new Error(`register: ${reg.status}`);

  // First visit: every JS and CSS file the sign-in page and then the wallet load.
  const sizes = { js: { raw: 0, gzip: 0, files: 0 }, css: { raw: 0, gzip: 0, files: 0 } };
  const cold = await browser.newContext();
  const page = await cold.newPage();
  page.on('response', async (res) => {
    const type = res.headers()['content-type'] ?? '';
    const kind = type.includes('javascript') ? 'js' : type.includes('css') ? 'css' : null;
    if (!kind) return;
    const body = await res.body().catch(() => null);
    if (!body) return;
    sizes[kind].raw += body.length;
    sizes[kind].gzip += gzipSync(body).length;
    sizes[kind].files += 1;
  });
  await page.goto(`${base}/login`);
  await page.fill('input[type=email]', 'bench@example.test');
  await page.fill('input[type=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('[data-asset]').first().waitFor();
  await page.waitForLoadState('networkidle');
  const cookies = await cold.cookies();
  await cold.close();

  const coldTimes: number[] = [];
  const warmTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext();
    await ctx.addCookies(cookies);
    const p = await ctx.newPage();
    coldTimes.push(await walletShown(p, base));
    warmTimes.push(await walletShown(p, base));
    await ctx.close();
  }
  console.log(`web app, first visit (sign-in then wallet), ${new Date().toISOString()}`);
  console.log(`  JavaScript: ${sizes.js.files} files, ${kb(sizes.js.gzip)} gzip (${kb(sizes.js.raw)} raw)   target <= 150 KB gzip`);
  console.log(`  CSS:        ${sizes.css.files} files, ${kb(sizes.css.gzip)} gzip (${kb(sizes.css.raw)} raw)`);
  console.log(`  navigation -> wallet shown, signed in, median of ${RUNS}: cold ${median(coldTimes).toFixed(0)} ms, warm ${median(warmTimes).toFixed(0)} ms   target < 1000 ms`);
  console.log(`  (cold runs: ${coldTimes.map((t) => t.toFixed(0)).join(', ')} ms)`);
} finally {
  await browser.close();
  await platform.stop();
}
