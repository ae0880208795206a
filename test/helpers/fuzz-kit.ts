// Request generation for the OpenAPI fuzzer (test/fuzz/openapi-fuzz.test.ts): the operations of
// the platform's own OpenAPI document (app.swagger()), and for each a request built from a
// fast-check case: a body that json-schema-faker generates from the route's schema (valid), then
// perhaps broken in one named way (missing or extra field, wrong type, huge or odd unicode text,
// decimals with too many places, bad JSON, wrong content type …); params, query and headers
// alike. Everything is drawn from the case's seed, so a seed replays the same requests.
import fc from 'fast-check';
import { JSONSchemaFaker as jsf, type Schema } from 'json-schema-faker';

export interface Operation {
  method: string;
  /** The OpenAPI path, e.g. /api/v1/invoices/{id} */
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: Schema; required: boolean }>;
  headers: Array<{ name: string; schema: Schema; required: boolean }>;
  body: Schema | null;
}

interface OpenApiParam { name: string; in: string; required?: boolean; schema?: Schema }
interface OpenApiOp { parameters?: OpenApiParam[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }

/** operationsOf(app.swagger()) -> one entry per method and path of the document. */
export function operationsOf(doc: { paths?: Record<string, Record<string, OpenApiOp>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const of = (where: string) => params.filter((p) => p.in === where).map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true }));
      out.push({
        method: method.toUpperCase(), path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: of('query'), headers: of('header'),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  return out;
}

/** The ways a body (params, query, headers) is broken; 'valid' leaves it as generated. */
export const BODY_MUTATIONS = ['missing', 'extra', 'field', 'field', 'not_object', 'bad_json', 'content_type', 'deep', 'proto', 'huge', 'empty'] as const;
export type BodyMutation = (typeof BODY_MUTATIONS)[number];
export const PARAM_MUTATIONS = ['victim', 'own', 'pool', 'evil', 'bad_percent', 'huge'] as const;
export const QUERY_MUTATIONS = ['evil', 'missing', 'extra', 'duplicate', 'huge'] as const;
export const HEADER_MUTATIONS = ['reuse_key', 'no_key', 'evil_key', 'long_key', 'evil_auth', 'evil_lang', 'cookie'] as const;

/** Text and values that have broken parsers before: encodings, sizes, number edges, decimals. */
const EVIL_TEXT = [
  '', ' ', '\u0000', '\u202e', 'null', 'undefined', 'NaN', 'Infinity', '-Infinity', '-1', '-0', '0', '00', '1e400', '1E5', '0x10', '+1', ' 1',
  '1.', '.5', '1..2', '1,5', '１２３', '١٢٣', '1.0000000000000000000000000000000000001', '0.00000000000000000000000000000000000000001',
  '99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999', '-99999999999999999999', '9007199254740993',
  '115792089237316195423570985008687907853269984665640564039457584007913129639936', '💸'.repeat(64), 'é'.repeat(300), '\ud800', 'a\udc00b',
  '../../../etc/passwd', '%00', '%', "' or 1=1 --", '"; drop table users; --', '<script>alert(1)</script>', '${7*7}', '__proto__', 'constructor',
  'prototype', 'toString', 'hasOwnProperty', 'x'.repeat(5000), '0x' + 'f'.repeat(64), '0x' + '0'.repeat(40), 'usr_' + 'a'.repeat(26),
  '2026-02-30T25:61:61Z', '0000-00-00T00:00:00Z', '9999-12-31T23:59:59.999Z', '-271821-04-20T00:00:00Z', 'ETH', 'USDT', 'eth', 'ETH ', 'BTC',
];
const EVIL_NUMBERS = [-1, 0, -0, 1.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 2 ** 64, 1e-320, 3.000000000000001];

/** A value of any JSON shape that a schema probably does not expect. */
export const evilValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...EVIL_TEXT),
  fc.constantFrom(...EVIL_NUMBERS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
);

export interface FuzzCase {
  op: number;
  actor: number;
  body: BodyMutation | 'valid';
  param: (typeof PARAM_MUTATIONS)[number];
  query: (typeof QUERY_MUTATIONS)[number] | 'valid';
  header: (typeof HEADER_MUTATIONS)[number] | 'valid';
  seed: number;
  evil: unknown;
  evilText: string;
}

/**
 * The arbitrary of cases over `ops` operations and `actors` actors. Half the cases are clean
 * (everything valid, so that requests reach the code behind validation); the others break one
 * part of the request: the body, a path param, the query or the headers.
 */
export function caseArb(ops: number, actors: number): fc.Arbitrary<FuzzCase> {
  const clean = { body: 'valid' as const, query: 'valid' as const, header: 'valid' as const };
  const broken = fc.oneof(
    { weight: 4, arbitrary: fc.record({ ...constants(clean), param: fc.constantFrom('victim' as const, 'own' as const, 'pool' as const) }) },
    { weight: 2, arbitrary: fc.record({ ...constants(clean), param: fc.constantFrom('own' as const, 'pool' as const), body: fc.constantFrom(...BODY_MUTATIONS) }) },
    { weight: 1, arbitrary: fc.record({ ...constants(clean), param: fc.constantFrom(...PARAM_MUTATIONS) }) },
    { weight: 1, arbitrary: fc.record({ ...constants(clean), param: fc.constantFrom('own' as const, 'pool' as const), query: fc.constantFrom(...QUERY_MUTATIONS) }) },
    { weight: 1, arbitrary: fc.record({ ...constants(clean), param: fc.constantFrom('own' as const, 'pool' as const), header: fc.constantFrom(...HEADER_MUTATIONS) }) },
  );
  return fc.record({
    op: fc.nat(ops - 1),
    actor: fc.nat(actors - 1),
    parts: broken,
    seed: fc.integer(),
    evil: evilValueArb,
    evilText: fc.oneof(fc.constantFrom(...EVIL_TEXT), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme-ascii', maxLength: 30 })),
  }).map(({ parts, ...rest }) => ({ ...rest, ...parts }));
}

function constants<T extends Record<string, unknown>>(values: T): { [K in keyof T]: fc.Arbitrary<T[K]> } {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fc.constant(v)])) as { [K in keyof T]: fc.Arbitrary<T[K]> };
}

/** mulberry32: a small seeded PRNG, so that json-schema-faker draws from the case's seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value valid for `schema` (json-schema-faker), drawn from `rnd`. */
export function fake(schema: Schema, rnd: () => number): unknown {
  jsf.option({ random: rnd, optionalsProbability: 0.6, alwaysFakeOptionals: false, maxItems: 4, maxLength: 80, failOnInvalidFormat: false, useDefaultValue: false });
  return jsf.generate(schema);
}

export function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** Nested arrays `depth` deep, as JSON text (a stack-hungry parser or validator would fall over). */
export function deepJson(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

const BAD_JSON = ['{', '{"a":', '{"a":1}x', "{'a':1}", '{"a":1,}', '[1,2', 'nul', '\u0000', '{"a":"\\ud800"}', '{"a":1e999999}', '{"a":"\\u00"}', '\ufeff{}', '{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"x":1}}}'];
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/jsonx', 'application/vnd.api+json', 'application/json;;;', '*/*', 'image/png', 'application/pdf'];

export interface BuiltBody {
  payload?: string | Buffer;
  contentType?: string;
}

/** The body a case sends, from its schema's valid value `valid` (null: the route takes none). */
export function buildBody(c: FuzzCase, valid: unknown, rnd: () => number): BuiltBody {
  const json = (v: unknown): BuiltBody => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' });
  const obj = valid && typeof valid === 'object' && !Array.isArray(valid) ? { ...(valid as Record<string, unknown>) } : null;
  switch (c.body) {
    case 'valid': return valid === null ? {} : json(valid);
    case 'missing': {
      if (!obj || !Object.keys(obj).length) return json({});
      delete obj[pick(rnd, Object.keys(obj))];
      return json(obj);
    }
    case 'extra': return json({ ...(obj ?? {}), [pick(rnd, ['extra', 'user_id', 'roles', 'status', 'amount_minor', 'id', '__proto__', ''])]: c.evil });
    case 'field': {
      if (!obj || !Object.keys(obj).length) return json(c.evil);
      obj[pick(rnd, Object.keys(obj))] = rnd() < 0.5 ? c.evil : c.evilText;
      return json(obj);
    }
    case 'not_object': return json(c.evil);
    case 'bad_json': return { payload: pick(rnd, BAD_JSON), contentType: 'application/json' };
    case 'content_type': return { payload: JSON.stringify(valid ?? {}), contentType: pick(rnd, CONTENT_TYPES) };
    case 'deep': return { payload: deepJson(pick(rnd, [100, 5_000, 50_000])), contentType: 'application/json' };
    case 'proto': return { payload: `{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}${obj ? ',' + JSON.stringify(obj).slice(1) : '}'}`, contentType: 'application/json' };
    case 'huge': return { payload: JSON.stringify({ ...(obj ?? {}), pad: 'x'.repeat(pick(rnd, [70_000, 1_100_000])) }), contentType: 'application/json' };
    case 'empty': return { payload: '', contentType: pick(rnd, ['application/json', 'text/plain']) };
  }
}
