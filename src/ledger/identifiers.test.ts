// Proves the hand-written id check accepts exactly what the documented pattern accepts.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { isValidId, isValidIdByPattern } from './identifiers.ts';

it('isValidId agrees with the id pattern on arbitrary strings', () => {
  const alphabet = fc.constantFrom(...'aZ09._:-/ é\u0000\uD800'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: alphabet, maxLength: 70 }), fc.string({ unit: 'grapheme', maxLength: 10 })), (value) => {
      expect(isValidId(value)).toBe(isValidIdByPattern(value));
    }),
    { numRuns: 2000 },
  );
  expect(isValidId('cb:issuance')).toBe(true);
  expect(isValidId('a'.repeat(64))).toBe(true);
  expect(isValidId('a'.repeat(65))).toBe(false);
  expect(isValidId('')).toBe(false);
  expect(isValidId('a/b')).toBe(false);
});
