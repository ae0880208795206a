// The web app's API types are generated from the platform's OpenAPI document; this fails when
// a route changed and web/api/schema.d.ts was not regenerated (`npm run gen:web-api`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSchemaTypes } from './openapi-gen.ts';

describe('web/api/schema.d.ts', () => {
  it('matches the OpenAPI document the platform serves (else: npm run gen:web-api)', async () => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', '..', 'web', 'api', 'schema.d.ts'), 'utf8');
    const fresh = await generateSchemaTypes();
    expect(onDisk === fresh, 'web/api/schema.d.ts is stale: run `npm run gen:web-api` and commit it').toBe(true);
  });
});
