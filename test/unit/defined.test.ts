// defined(): the one helper for optional fields passed on under exactOptionalPropertyTypes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defined } from '../../src/model/defined.js';

test('drops only undefined: empty strings, zero, false and null are values', () => {
  const out = defined({ a: undefined, b: '', c: 0, d: false, e: null, f: 'x' });
  assert.deepEqual(out, { b: '', c: 0, d: false, e: null, f: 'x' });
  assert.equal('a' in out, false);
});
