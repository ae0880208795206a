// Goal: keep the house in order — every import under src/ follows the layers of CONVENTIONS.md
// (docs/architecture.md has the module map), other modules are reached only through their face,
// chain/ knows no payments, and no test code lives in src/. Method: read every source file's
// static and dynamic imports with a small parser and check each edge against the rules below;
// a failure names the file, the import and the rule it breaks.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = normalize(join(import.meta.dirname, '..', '..', 'src'));

/**
 * The layers, top first: a module may import modules of a higher layer (smaller number) and,
 * through their faces, its own layer's siblings; never a module below it.
 */
const LAYER: Record<string, number> = {
  shared: 0, config: 0,
  db: 1, jobs: 1,
  ledger: 2,
  accounts: 3, notify: 3, ops: 3,
  chain: 4,
  risk: 5,
  payments: 6, trades: 6,
  support: 7,
  // The faces: the HTTP shell, the command line, the web app's server side and the
  // composition root. They may import any module, through its face or its routes.
  http: 8, web: 8, live: 8, cli: 8, app: 8, platform: 8, main: 8, housekeeping: 8,
};

/** Libraries of helpers rather than modules with insides: any of their files may be imported. */
const OPEN_MODULES = new Set(['shared', 'config', 'db', 'http']);
/** The composition root and the command line wire modules together and may reach their parts. */
const ROOTS = new Set(['platform', 'main', 'cli', 'app', 'housekeeping']);
/** What chain/ may import: adapters know config, the database, jobs and shared helpers only. */
const CHAIN_MAY_IMPORT = new Set(['chain', 'shared', 'config', 'db', 'jobs']);
/** Tables that payments owns (deposit scanning and custody live there): chain/ never names them. */
const PAYMENTS_TABLES = ['deposits', 'payments', 'payment_timeline', 'chain_cursors', 'chain_blocks', 'invoices', 'withdrawals', 'sweeps'];

interface Edge { from: string; to: string; spec: string }

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
    }
  }
  return out.sort();
}

/** The module a path under src/ belongs to: its first folder, or the file's own name at the top. */
function moduleOf(rel: string): string {
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.ts$/, '');
}

/** A module's face: `<m>/<m>.ts`, and for payments and trades also each kind's `<kind>/<kind>.ts`. */
function isFace(rel: string): boolean {
  const parts = rel.split(sep);
  const base = parts.at(-1)!.replace(/\.ts$/, '');
  if (parts.length === 2) return base === parts[0];
  return parts.length === 3 && base === parts[1];
}

/**
 * A module's own faces to the outside world: its HTTP routes, its commands, and its wiring (the
 * part of the composition root a module hands to platform.ts: its routes and workers, built).
 */
function isRoutes(rel: string): boolean {
  return /-(routes|cli|wiring)\.ts$/.test(rel);
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec));
      out.push({ from: relative(SRC, file), to: relative(SRC, target), spec });
    }
  }
  return out;
}

/** Why an edge breaks the layers, or null when it is allowed. */
function violation(e: Edge): string | null {
  if (e.to.startsWith('..')) return 'imports from outside src/ (test kits belong in test/helpers/)';
  const a = moduleOf(e.from);
  const b = moduleOf(e.to);
  if (b === 'main' || b === 'platform') {
    if (!ROOTS.has(a)) return `imports the composition root (${b}.ts)`;
  }
  if (a === b) return null;
  const la = LAYER[a];
  const lb = LAYER[b];
  if (la === undefined) return `module "${a}" is not in the layer table (add it to LAYER and to docs/architecture.md)`;
  if (lb === undefined) return `module "${b}" is not in the layer table (add it to LAYER and to docs/architecture.md)`;
  if (a === 'chain' && !CHAIN_MAY_IMPORT.has(b)) return 'chain/ imports only config, db, jobs and shared';
  const fromFace = isRoutes(e.from) || la === 8;
  if (lb > la && !fromFace) return `a layer-${la} module imports "${b}" from layer ${lb} below it (tell it through the outbox instead)`;
  if (OPEN_MODULES.has(b)) return null;
  if (ROOTS.has(a)) return null;
  if (isFace(e.to)) return null;
  if (fromFace && isRoutes(e.to)) return null;
  return `reaches inside "${b}" instead of importing its face ${b}/${b}.ts`;
}

describe('module layers (CONVENTIONS.md)', () => {
  const all = edges();

  it('finds the imports it checks', () => {
    expect(all.length).toBeGreaterThan(200);
  });

  it('no import runs back up, reaches a sibling\'s insides or leaves src/', () => {
    const bad = all.map((e) => ({ e, why: violation(e) })).filter((x) => x.why !== null)
      .map(({ e, why }) => `${e.from} -> ${e.spec}: ${why}`);
    expect(bad).toEqual([]);
  });

  it('chain/ never names payments\' tables', () => {
    const bad: string[] = [];
    for (const file of sourceFiles(join(SRC, 'chain'))) {
      const text = readFileSync(file, 'utf8');
      for (const t of PAYMENTS_TABLES) if (text.includes(`'${t}'`)) bad.push(`${relative(SRC, file)} names '${t}'`);
    }
    expect(bad).toEqual([]);
  });

  it('no test kit or test-only code under src/', () => {
    const bad = sourceFiles(SRC).map((f) => relative(SRC, f)).filter((f) => /testkit|test-kit|-child\.ts$|fixture/i.test(f));
    expect(bad).toEqual([]);
  });

  it('the checker itself refuses what the layers forbid', () => {
    expect(violation({ from: 'ledger/ledger.ts', to: 'payments/payments.ts', spec: '' })).toMatch(/below/);
    expect(violation({ from: 'payments/deposits/deposits.ts', to: 'chain/evm.ts', spec: '' })).toMatch(/face/);
    expect(violation({ from: 'chain/evm.ts', to: 'ledger/ledger.ts', spec: '' })).toMatch(/chain/);
    expect(violation({ from: 'accounts/accounts.ts', to: 'main.ts', spec: '' })).toMatch(/composition root/);
    expect(violation({ from: 'payments/deposits/deposits.ts', to: 'chain/chain.ts', spec: '' })).toBeNull();
    expect(violation({ from: 'payments/payment-routes.ts', to: 'accounts/accounts.ts', spec: '' })).toBeNull();
  });
});
