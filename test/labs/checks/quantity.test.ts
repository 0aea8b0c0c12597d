import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../../../src/labs/index.ts';

describe('quantities', () => {
  it('compares CPU and memory however they are written', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('0.1')).toBeCloseTo(0.1);
    expect(parseQuantity('256Mi')).toBe(256 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity('lots')).toBeUndefined();
  });
});
