// `npm run soak [-- --minutes N] [-- --postgres]`: a random-SIGKILL soak (issue 15). Mixed load
// through the HTTP API — registrations, transfers with Idempotency-Keys, merchant invoices (half
// of them paid on chain), withdrawals to the dev chain — while the platform process is SIGKILLed
// at random moments and started again "later". After each kill (the database as the crash left
// it) and at the end: `settle ledger verify` and `settle reconcile` clean, and every accepted
// request's effect there exactly once (counted against the requests answered and the ones still
// unanswered, which are retried with the same key and body after the restart). At the end every
// withdrawal is on chain once: the one destination holds exactly what they sent.
// Prints the figures (kills, requests, retries, checks). Default 3 minutes on SQLite; --postgres
// uses SETTLE_TEST_DATABASE_URL.
import { parseArgs } from 'node:util';
import { anvilAccount, sendMint, type Hex } from '../src/chain/chain.ts';
import { formatAmount, parseAmount } from '../src/shared/money.ts';
import { balanceOfToken } from '../test/helpers/anvil.ts';
import { CHAIN, PW, sendOp, settleHere, startSoakWorld, type Op, type OpKind, type SoakWorld } from './soak-kit.ts';

const { values: argv } = parseArgs({ options: { minutes: { type: 'string', default: '3' }, postgres: { type: 'boolean', default: false }, seed: { type: 'string' } } });
const MINUTES = Number(argv.minutes);
const SEED = argv.seed ? Number(argv.seed) : Math.floor(Math.random() * 2 ** 31);
const IN_FLIGHT = 4;
const USERS = 5;

let rngState = SEED >>> 0;
function rnd(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Person { id: string; email: string; token: string; session_id: string }
const figures = { kills: 0, requests: 0, sends: 0, retried: 0, checkpoints: 0, checks: 0, invoices_paid: 0, problems: [] as string[] };

async function session(w: SoakWorld, user_id: string): Promise<Pick<Person, 'token' | 'session_id'>> {
  const s = await w.platform.accounts.issueSessionForTests(user_id);
  await w.platform.accounts.grantStepUpForTests(s.session_id);
  return { token: s.token, session_id: s.session_id };
}

async function api(w: SoakWorld, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${w.port}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

/** Users funded the honest way: a deposit address each (HTTP), USDT minted to it on chain, credited by the scanner. */
async function setUp(w: SoakWorld): Promise<{ users: Person[]; merchant: Person; merchantKey: string }> {
  const users: Person[] = [];
  for (let i = 0; i < USERS; i++) {
    const u = await w.platform.accounts.createUserWithRoles(`user${i}@soak.test`, PW, []);
    users.push({ id: u.id, email: u.email, ...(await session(w, u.id)) });
  }
  const m = await w.platform.accounts.createUserWithRoles('merchant@soak.test', PW, ['merchant']);
  const merchant: Person = { id: m.id, email: m.email, ...(await session(w, m.id)) };
  const key = await api(w, 'POST', '/api/v1/api-keys', merchant.token, { name: 'soak shop' });
  if (typeof key.json.key !== 'string') throw new Error(`api key: ${key.status} ${JSON.stringify(key.json)}`);
  for (const u of users) {
    const addr = await api(w, 'POST', '/api/v1/deposit-addresses', u.token, { asset: 'USDT' });
    if (typeof addr.json.address !== 'string') throw new Error(`deposit address: ${addr.status} ${JSON.stringify(addr.json)}`);
    const hash = await sendMint(w.env.anvil.rpc_url, CHAIN, w.env.usdt, anvilAccount(0), String(addr.json.address) as Hex, 1_000_000_000n);
    await w.env.client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  }
  for (let i = 0; i < 600; i++) {
    const balances = await Promise.all(users.map((u) => w.platform.ledger.balancesOf('user', u.id, ['USDT'])));
    if (balances.every(([b]) => (b?.available_minor ?? 0n) >= 1_000_000_000n)) break;
    await sleep(100);
  }
  return { users, merchant, merchantKey: String(key.json.key) };
}

function newOp(n: number, users: Person[], merchant: Person): Op {
  const r = rnd();
  const from = users[Math.floor(rnd() * users.length)]!;
  const kind: OpKind = r < 0.5 ? 'transfer' : r < 0.65 ? 'withdrawal' : r < 0.85 ? 'invoice' : 'register';
  const amount = formatAmount(BigInt(1 + Math.floor(rnd() * 3_000_000)), 6);
  switch (kind) {
    case 'transfer': return { kind, key: `soak-${SEED}-${n}`, path: '/api/v1/transfers', body: { to_email: users[(users.indexOf(from) + 1) % users.length]!.email, asset: 'USDT', amount }, as: from.id, status: null, answer: null, sends: 0 };
    case 'withdrawal': return { kind, key: `soak-${SEED}-${n}`, path: '/api/v1/withdrawals', body: { to_address: '', asset: 'USDT', amount: formatAmount(BigInt(1 + Math.floor(rnd() * 3)) * 1_000_000n, 6) }, as: from.id, status: null, answer: null, sends: 0 };
    case 'invoice': return { kind, key: `soak-${SEED}-${n}`, path: '/api/v1/invoices', body: { asset: 'USDT', amount: formatAmount(BigInt(1 + Math.floor(rnd() * 50)) * 1_000_000n, 6), order_id: `order-${n}` }, as: merchant.id, status: null, answer: null, sends: 0 };
    case 'register': return { kind, key: `soak-${SEED}-${n}`, path: '/api/v1/auth/register', body: { email: `soak-${SEED}-${n}@soak.test`, password: PW }, as: null, status: null, answer: null, sends: 0 };
  }
}

/** What the database holds per kind, to compare with the answers. */
async function effects(w: SoakWorld): Promise<Record<OpKind, Set<string>>> {
  const k = w.t.db.kysely;
  const pays = await k.selectFrom('payments').select(['id', 'kind', 'direction']).where('kind', 'in', ['transfer', 'withdrawal']).execute();
  return {
    transfer: new Set(pays.filter((p) => p.kind === 'transfer' && p.direction === 'out').map((p) => p.id)),
    withdrawal: new Set(pays.filter((p) => p.kind === 'withdrawal').map((p) => p.id)),
    invoice: new Set((await k.selectFrom('invoices').select('id').execute()).map((r) => r.id)),
    register: new Set((await k.selectFrom('users').select('email').where('email', 'like', `soak-${SEED}-%`).execute()).map((r) => r.email)),
  };
}

/** `settle <args>` once, counted; a failure is a problem of the run. */
async function settleCheck(w: SoakWorld, args: string[], label: string): Promise<void> {
  figures.checks++;
  const r = await settleHere(w, args);
  if (r.code !== 0) figures.problems.push(`${label}: settle ${args.join(' ')} exit ${r.code}: ${r.out.split('\n').filter((l) => l.startsWith('FAIL')).join(' | ').slice(0, 800)}`);
}

/**
 * The database as the crash left it: ledger verify, and exactly once — every accepted request's
 * effect there, and no more effects than accepted + still unanswered requests.
 */
async function crashCheckpoint(w: SoakWorld, ops: Op[], label: string): Promise<void> {
  figures.checkpoints++;
  await settleCheck(w, ['ledger', 'verify'], label);
  const held = await effects(w);
  for (const kind of ['transfer', 'withdrawal', 'invoice', 'register'] as const) {
    figures.checks++;
    const mine = ops.filter((o) => o.kind === kind);
    const accepted = mine.filter((o) => o.status !== null && o.status < 300);
    const pending = mine.filter((o) => o.status === null);
    const missing = accepted.filter((o) => !held[kind].has(kind === 'register' ? String(o.body.email) : String(o.answer?.id)));
    if (missing.length) figures.problems.push(`${label}: ${missing.length} accepted ${kind}(s) without their effect, e.g. ${missing[0]!.key}`);
    if (held[kind].size < accepted.length || held[kind].size > accepted.length + pending.length) figures.problems.push(`${label}: ${held[kind].size} ${kind} effect(s) for ${accepted.length} accepted + ${pending.length} unanswered request(s)`);
  }
}

/**
 * The restarted platform once its scanner has caught up with the chain head (coins that arrived
 * while it was down are then recorded): ledger verify and reconcile. The load waits meanwhile.
 */
async function runningCheckpoint(w: SoakWorld, label: string): Promise<void> {
  figures.checkpoints++;
  const head = Number(await w.env.client.getBlockNumber({ cacheTime: 0 }));
  for (let i = 0; i < 600; i++) {
    const cursor = await w.t.db.kysely.selectFrom('chain_cursors').select('next_block').where('chain_id', '=', CHAIN).executeTakeFirst();
    if (cursor && Number(cursor.next_block) > head) break;
    await sleep(100);
  }
  await settleCheck(w, ['ledger', 'verify'], label);
  await settleCheck(w, ['reconcile'], label);
}

async function main(): Promise<void> {
  console.log(`soak: ${MINUTES} min on ${argv.postgres ? 'PostgreSQL' : 'SQLite'}, seed ${SEED} (--seed ${SEED} to replay the load; kill moments are random)`);
  const w = await startSoakWorld(argv.postgres ? 'postgres' : 'sqlite');
  try {
    await w.start();
    const { users, merchant, merchantKey } = await setUp(w);
    const tokens = new Map<string, string>([...users, merchant].map((p) => [p.id, p.token]));
    tokens.set(`${merchant.id}:key`, merchantKey);
    const token = (id: string) => (id === merchant.id ? merchantKey : tokens.get(id)!);
    const ops: Op[] = [];
    const deadline = Date.now() + MINUTES * 60_000;
    let nextKill = Date.now() + 5_000 + rnd() * 15_000;
    while (Date.now() < deadline) {
      const pending = ops.filter((o) => o.status === null);
      const wave = [...pending.slice(0, IN_FLIGHT)];
      while (wave.length < IN_FLIGHT) {
        const op = newOp(ops.length, users, merchant);
        if (op.kind === 'withdrawal') op.body.to_address = w.dest;
        ops.push(op);
        wave.push(op);
      }
      const killing = Date.now() >= nextKill;
      const sent = wave.map(async (op) => ({ op, ok: await sendOp(w, op, token) }));
      if (killing) {
        await sleep(Math.floor(rnd() * 150)); // requests in flight
        await w.kill();
        figures.kills++;
      }
      for (const { op, ok } of await Promise.all(sent)) {
        if (!ok && op.sends === 1) figures.retried++;
        if (op.status === 401) await refreshSession(w, op, tokens, merchant.id);
        if (ok && op.kind === 'invoice' && op.status === 201 && rnd() < 0.5) await payInvoice(w, op);
      }
      if (killing) {
        await crashCheckpoint(w, ops, `after kill ${figures.kills}`);
        await w.start();
        await runningCheckpoint(w, `after restart ${figures.kills}`);
        nextKill = Date.now() + 3_000 + rnd() * 20_000;
      }
    }
    await finish(w, ops, token, tokens, merchant.id);
  } finally {
    await w.stop();
  }
}

/** A 401 (the session or its step-up expired as the restarts ran the clock ahead): a new session, and the op is sent again. */
async function refreshSession(w: SoakWorld, op: Op, tokens: Map<string, string>, merchant_id: string): Promise<void> {
  if (!op.as || op.as === merchant_id) return;
  tokens.set(op.as, (await session(w, op.as)).token);
  op.status = null;
  op.answer = null;
}

/** A customer pays the invoice's amount to its address (minted from the token's deployer). */
async function payInvoice(w: SoakWorld, op: Op): Promise<void> {
  const due = parseAmount(String(op.answer!.amount_due), 6);
  if (!due.ok) return;
  await sendMint(w.env.anvil.rpc_url, CHAIN, w.env.usdt, anvilAccount(0), String(op.answer!.address) as Hex, due.amount_minor).catch(() => undefined);
  figures.invoices_paid++;
}

/** Every unanswered request answered, the withdrawals settled on chain, the last checks, the figures. */
async function finish(w: SoakWorld, ops: Op[], token: (id: string) => string, tokens: Map<string, string>, merchant_id: string): Promise<void> {
  for (let round = 0; ops.some((o) => o.status === null); round++) {
    if (round > 200) throw new Error('requests still unanswered after 200 rounds');
    for (const op of ops.filter((o) => o.status === null)) {
      await sendOp(w, op, token);
      if (op.status === 401) await refreshSession(w, op, tokens, merchant_id);
    }
    await sleep(200);
  }
  const done = (s: string) => s === 'completed' || s === 'failed' || s === 'cancelled' || s === 'review';
  for (let i = 0; i < 1200; i++) {
    const rows = await w.t.db.kysely.selectFrom('payments').select(['id', 'status']).where('kind', '=', 'withdrawal').execute();
    if (rows.every((r) => done(r.status))) break;
    await sleep(250);
  }
  await runningCheckpoint(w, 'at the end, running');
  await w.kill();
  await crashCheckpoint(w, ops, 'at the end, stopped');
  await settleCheck(w, ['reconcile'], 'at the end, stopped');
  const rows = await w.t.db.kysely.selectFrom('payments').select(['id', 'status', 'amount_minor']).where('kind', '=', 'withdrawal').execute();
  const sent = rows.filter((r) => r.status === 'completed').reduce((s, r) => s + BigInt(r.amount_minor), 0n);
  const onChain = await balanceOfToken(w.env.client, w.env.usdt, w.dest.toLowerCase() as Hex);
  figures.checks++;
  if (onChain !== sent) figures.problems.push(`the destination holds ${onChain} USDT minor units, completed withdrawals sent ${sent}`);
  const byKind = (k: OpKind) => `${ops.filter((o) => o.kind === k && o.status !== null && o.status < 300).length}/${ops.filter((o) => o.kind === k).length}`;
  console.log(`soak figures: ${figures.kills} kills; ${ops.length} requests (${ops.reduce((s, o) => s + o.sends, 0)} sends, ${figures.retried} retried after no answer); accepted transfers ${byKind('transfer')}, withdrawals ${byKind('withdrawal')} (${rows.filter((r) => r.status === 'completed').length} completed on chain), invoices ${byKind('invoice')} (${figures.invoices_paid} paid on chain), registrations ${byKind('register')}; ${figures.checkpoints} checkpoints, ${figures.checks} checks`);
  console.log(`withdrawn on chain: ${formatAmount(onChain, 6)} USDT = completed withdrawals ${formatAmount(sent, 6)} USDT`);
  if (figures.problems.length) {
    console.log(`PROBLEMS (${figures.problems.length}):\n${figures.problems.join('\n')}`);
    process.exitCode = 1;
  } else console.log('soak: clean');
}

await main();
