import { describe, expect, it } from 'vitest';
import { Quantity, QUANTITY_PATTERN_MESSAGE, tryParseQuantity } from '../../../src/cluster/registry/index.ts';

const canonical = (text: string) => Quantity.parse(text).toString();

describe('Quantity', () => {
  it('parses decimal and binary suffixes to exact values', () => {
    expect(Quantity.parse('100m').milliValue()).toBe(100);
    expect(Quantity.parse('1').milliValue()).toBe(1000);
    expect(Quantity.parse('0.5').milliValue()).toBe(500);
    expect(Quantity.parse('1Ki').value()).toBe(1024);
    expect(Quantity.parse('128Mi').value()).toBe(128 * 1024 * 1024);
    expect(Quantity.parse('1Gi').value()).toBe(1073741824);
    expect(Quantity.parse('1k').value()).toBe(1000);
    expect(Quantity.parse('1M').value()).toBe(1_000_000);
    expect(Quantity.parse('2G').value()).toBe(2_000_000_000);
    expect(Quantity.parse('1e3').value()).toBe(1000);
    expect(Quantity.parse('1.5e3').value()).toBe(1500);
    expect(Quantity.parse('12E-3').milliValue()).toBe(12);
    expect(Quantity.parse('250u').nanos).toBe(250_000n);
    expect(Quantity.parse('-2').value()).toBe(-2);
  });

  it('prints the canonical form the API server stores', () => {
    expect(canonical('1000m')).toBe('1');
    expect(canonical('1500m')).toBe('1500m');
    expect(canonical('0.5')).toBe('500m');
    expect(canonical('1.5Gi')).toBe('1536Mi');
    expect(canonical('1024Mi')).toBe('1Gi');
    expect(canonical('2048')).toBe('2048');
    expect(canonical('2000')).toBe('2k');
    expect(canonical('1e3')).toBe('1e3');
    expect(canonical('1.5e3')).toBe('1500');
    expect(canonical('100Ki')).toBe('100Ki');
    expect(canonical('0')).toBe('0');
    expect(canonical('0.1Ki')).toBe('102400m');
  });

  it('adds keeping the first operand\'s format, unless it is zero', () => {
    expect(Quantity.parse('1Gi').add(Quantity.parse('512Mi')).toString()).toBe('1536Mi');
    expect(Quantity.parse('0').add(Quantity.parse('512Mi')).toString()).toBe('512Mi');
    expect(Quantity.parse('500m').add(Quantity.parse('1')).toString()).toBe('1500m');
    expect(Quantity.parse('500m').add(Quantity.parse('500m')).toString()).toBe('1');
  });

  it('compares across formats', () => {
    expect(Quantity.parse('1Gi').cmp(Quantity.parse('1G'))).toBe(1);
    expect(Quantity.parse('1000m').cmp(Quantity.parse('1'))).toBe(0);
    expect(Quantity.parse('999m').cmp(Quantity.parse('1'))).toBe(-1);
  });

  it('rounds values finer than a nano up', () => {
    expect(Quantity.parse('0.0000000001').nanos).toBe(1n);
  });

  it('rejects what Kubernetes rejects, with its message', () => {
    for (const bad of ['', 'abc', '1.2.3', '1Gb', '1 Gi', 'Gi', '--1', '1e', '.']) expect(tryParseQuantity(bad), bad).toBeUndefined();
    expect(() => Quantity.parse('12x')).toThrow(QUANTITY_PATTERN_MESSAGE);
  });

  it('accepts JSON numbers as clients send them', () => {
    expect(tryParseQuantity(2)?.toString()).toBe('2');
    expect(tryParseQuantity(0.25)?.toString()).toBe('250m');
  });
});
