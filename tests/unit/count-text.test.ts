import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countText } from '../../core/model/format/count-text.ts';

describe('countText', () => {
  it('prints every number as toLocaleString("en-US") does', () => {
    for (const n of [0, -0, 7, 999, 1000, -1000, 5122, 1_375_292, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60, 1.5, 1234.5678, NaN, Infinity]) {
      expect(countText(n)).toBe(n.toLocaleString('en-US'));
    }
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.double()), (n) => countText(n) === n.toLocaleString('en-US')));
  });
});
