import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateSchema } from './schema-validation.ts';

const schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        color: { type: 'string', enum: ['red', 'blue'] },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
      },
    },
  },
};

const cases: { name: string; value: unknown; fields: string[] }[] = [
  { name: 'valid', value: { spec: { size: 3, color: 'red', port: 'http', tags: ['a'] } }, fields: [] },
  { name: 'missing required', value: { spec: {} }, fields: ['spec.size'] },
  { name: 'wrong type', value: { spec: { size: 'big' } }, fields: ['spec.size'] },
  {
    name: 'bounds and enum',
    value: { spec: { size: 11, color: 'green' } },
    fields: ['spec.size', 'spec.color'],
  },
  {
    name: 'array items and length',
    value: { spec: { size: 1, tags: ['a', 2, 'c'] } },
    fields: ['spec.tags', 'spec.tags[1]'],
  },
  { name: 'int-or-string', value: { spec: { size: 1, port: 1.5 } }, fields: ['spec.port'] },
];

for (const tc of cases) {
  test(`schema validation: ${tc.name}`, () => {
    assert.deepEqual(
      validateSchema(schema, tc.value).map((e) => e.field),
      tc.fields,
    );
  });
}
