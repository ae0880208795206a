// npm run gen:web-api: writes web/api/schema.d.ts (see web/api/openapi-gen.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSchemaTypes } from '../test/web/openapi-gen.ts';

const out = join(import.meta.dirname, '..', 'web', 'api', 'schema.d.ts');
writeFileSync(out, await generateSchemaTypes());
console.log(`wrote ${out}`);
