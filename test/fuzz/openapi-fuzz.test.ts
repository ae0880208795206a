// Goal: whatever an outside client sends — to any route of the OpenAPI document, valid or not,
// signed in as anyone or no one — the platform answers with a clear 4xx or a 2xx: never a 5xx,
// never no answer, never a balance change for a refused request, never another user's data.
// Method: the real platform (SQLite, or PostgreSQL with SETTLE_TEST_DATABASE_URL) with the
// authorization walk's route collector; operations read from app.swagger(); fast-check draws
// cases (operation, actor, and how body, params, query and headers are broken) from a seed, and
// json-schema-faker fills in valid values from each route's schemas (fuzz-kit.ts,
// fuzz-request.ts). Around every request the ledger's head and balances are read: a non-2xx
// answer must leave them as they were. The victim (fuzz-world.ts) never acts; nobody but
// staff may see an id or secret of theirs that they did not send. CI runs a fixed seed and a
// bounded count; `npm run fuzz` a longer run with a printed seed (SETTLE_FUZZ_SEED, SETTLE_FUZZ_RUNS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DIALECTS } from '../helpers/db.ts';
import { caseArb, operationsOf, type FuzzCase, type Operation } from '../helpers/fuzz-kit.ts';
import { buildRequest } from '../helpers/fuzz-request.ts';
import { ledgerState, startFuzzWorld, type FuzzWorld } from '../helpers/fuzz-world.ts';

const LONG = process.env.SETTLE_FUZZ_LONG === '1';
const SEED = process.env.SETTLE_FUZZ_SEED ? Number(process.env.SETTLE_FUZZ_SEED) : LONG ? Math.floor(Math.random() * 2 ** 31) : 20261207;
function runsFor(dialect: string): number {
  if (process.env.SETTLE_FUZZ_RUNS) return Number(process.env.SETTLE_FUZZ_RUNS);
  if (LONG) return 20_000;
  return dialect === 'sqlite' ? 1_500 : 400;
}
/** Answers that are 5xx by design: a maintenance window, or an outside dependency that is down. */
const ALLOWED_5XX = new Set(['503 maintenance', '503 chain_unavailable', '503 unavailable']);
/** Money-moving routes are drawn three times as often as the others, the one stepped-up user twice as often as other actors. */
const MONEY = /transfers|withdrawals|invoices|deposit-addresses|fundings|refund|approve|reject/;
/** Long-lived answers (server-sent events) are fuzzed over a real socket in openapi-fuzz-http.test.ts. */
const STREAMING = new Set(['GET /api/v1/stream']);

interface Tally {
  byRoute: Map<string, Map<number, number>>;
  msByRoute: Map<string, number>;
  failures: string[];
}

function problemCode(body: string): string {
  try {
    return String((JSON.parse(body) as { code?: unknown }).code ?? '');
  } catch {
    return '';
  }
}

async function runCase(w: FuzzWorld, ops: Operation[], c: FuzzCase, index: number, before: string, tally: Tally): Promise<string> {
  const op = ops[c.op]!;
  const actor = w.actors[c.actor % w.actors.length]!;
  const req = buildRequest(c, op, w, actor, await actor.token());
  const where = () => `#${index} ${actor.name} ${req.method} ${req.url.slice(0, 200)} [${c.body}/${c.param}/${c.query}/${c.header}]`;
  let res;
  const t0 = performance.now();
  try {
    res = await w.t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
  } catch (error) {
    tally.failures.push(`no answer: ${where()}: ${String(error).slice(0, 200)}`);
    return ledgerState(w.t.platform.db);
  }
  const status = res.statusCode;
  tally.msByRoute.set(`${op.method} ${op.path}`, (tally.msByRoute.get(`${op.method} ${op.path}`) ?? 0) + performance.now() - t0);
  const perRoute = tally.byRoute.get(`${op.method} ${op.path}`) ?? new Map<number, number>();
  perRoute.set(status, (perRoute.get(status) ?? 0) + 1);
  tally.byRoute.set(`${op.method} ${op.path}`, perRoute);
  const show = () => `${where()} -> ${status} ${res.body.slice(0, 300)}`;
  if (status >= 500 && !ALLOWED_5XX.has(`${status} ${problemCode(res.body)}`)) tally.failures.push(`5xx: ${show()}`);
  if (status === 401) actor.refused();
  const after = await ledgerState(w.t.platform.db);
  if ((status < 200 || status >= 300) && after !== before) tally.failures.push(`ledger changed by a refused request: ${show()}`);
  if (!actor.staff) {
    for (const secret of w.victim.secrets) if (res.body.includes(secret) && !req.sent.includes(secret)) tally.failures.push(`victim secret: ${show()}`);
    for (const id of w.victim.ids) if (res.body.includes(id) && !req.sent.includes(id)) tally.failures.push(`victim id ${id}: ${show()}`);
  }
  return after;
}

describe.each(DIALECTS)('OpenAPI fuzz on %s', (dialect) => {
  let w: FuzzWorld;
  let ops: Operation[];
  const runs = runsFor(dialect);

  beforeAll(async () => {
    w = await startFuzzWorld(dialect);
    const all = operationsOf(w.t.app.swagger() as Parameters<typeof operationsOf>[0]);
    ops = all.filter((o) => !STREAMING.has(`${o.method} ${o.path}`)).flatMap((o) => (o.method !== 'GET' && MONEY.test(o.path) ? [o, o, o] : [o]));
  }, 120_000);

  afterAll(async () => {
    await w?.close();
  });

  it('the OpenAPI document names every route the modules registered', () => {
    const documented = new Set(operationsOf(w.t.app.swagger() as Parameters<typeof operationsOf>[0]).map((o) => `${o.method} ${o.path}`));
    const missing = w.routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`).filter((k) => !documented.has(k) && k !== 'GET /api/v1/openapi.json');
    expect(missing).toEqual([]);
    expect(documented.size).toBeGreaterThan(50);
  });

  it(`${runs} generated requests (seed ${SEED}): never a 5xx, never no answer, no balance change when refused, no victim data`, async () => {
    console.log(`openapi fuzz on ${dialect}: SETTLE_FUZZ_SEED=${SEED} SETTLE_FUZZ_RUNS=${runs}`);
    const cases = fc.sample(caseArb(ops.length, w.actors.length + 1), { seed: SEED, numRuns: runs });
    const tally: Tally = { byRoute: new Map(), msByRoute: new Map(), failures: [] };
    let state = await ledgerState(w.t.platform.db);
    for (const [i, c] of cases.entries()) {
      if (i % 250 === 0) {
        await w.refreshPool();
        await w.restore();
        state = await ledgerState(w.t.platform.db);
      }
      state = await runCase(w, ops, c, i, state, tally);
    }
    if (process.env.SETTLE_FUZZ_PRINT || LONG) {
      for (const [route, statuses] of [...tally.byRoute].sort()) console.log(`${route}: ${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ')} (${Math.round(tally.msByRoute.get(route) ?? 0)} ms)`);
    }
    expect(tally.failures.slice(0, 40)).toEqual([]);
    // Not only refusals: a share of the requests got through to the code behind validation.
    const ok = [...tally.byRoute.values()].reduce((n, m) => n + [...m].filter(([s]) => s < 300).reduce((a, [, k]) => a + k, 0), 0);
    expect(ok).toBeGreaterThan(runs / 20);
  }, 600_000);
});
