import { describe, expect, it } from 'vitest';
import { formatAmount, formatDuration, isPositiveDecimal } from './format.ts';

describe('format', () => {
  it('formats decimal strings exactly, beyond what a float holds', () => {
    expect(formatAmount('12345678901234567.123456789012345678', 'en')).toBe('12,345,678,901,234,567.123456789012345678');
    expect(formatAmount('1000', 'zh-CN')).toBe('1,000');
    expect(formatAmount('0.5', 'en')).toBe('0.5');
  });
  it('says durations in the language', () => {
    expect(formatDuration(90_000, 'en')).toBe('1 min 30 sec');
    expect(formatDuration(5_000, 'zh-CN')).toMatch(/5/);
    expect(formatDuration(-10, 'en')).toBe('0 sec');
  });
  it('accepts only positive decimals', () => {
    expect(isPositiveDecimal('0.01')).toBe(true);
    expect(isPositiveDecimal('0')).toBe(false);
    expect(isPositiveDecimal('1e3')).toBe(false);
  });
});
