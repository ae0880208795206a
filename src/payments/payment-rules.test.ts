// Goal: the payment model's pure rules are complete and consistent — every status of every kind
// has a transition row, every explanation code is translated in both languages (ETAs:
// payment-eta-rules.test.ts). Method: enumerate the tables and call the rules.
import { describe, expect, it } from 'vitest';
import { LOCALES } from '../shared/i18n.ts';
import { EXPLANATION_MESSAGES, NEXT_ACTIONS, explain } from './payment-messages.ts';
import {
  EXPLANATION_CODES,
  HOLD_REASONS,
  PAYMENT_KINDS,
  canTransition,
  defaultCode,
  holdCode,
  isTerminal,
  statusesOf,
} from './payment-rules.ts';

describe('payment rules', () => {
  it('has the exact status sets of API.md', () => {
    expect(statusesOf('deposit')).toEqual(['pending', 'confirming', 'held', 'credited', 'dropped', 'reversed', 'refunded']);
    // API.md's list, plus `unknown` (docs/api-extensions.md: the nonce is used, no receipt found yet).
    expect(statusesOf('withdrawal')).toEqual(['requested', 'review', 'broadcast', 'confirming', 'completed', 'failed', 'cancelled', 'unknown']);
    expect(statusesOf('transfer')).toEqual(['completed', 'held', 'failed']);
  });

  it('never lets a status of one kind leak into another, and terminal statuses stay put', () => {
    for (const kind of PAYMENT_KINDS) {
      const own = statusesOf(kind);
      for (const from of own) {
        for (const to of ['pending', 'requested', 'completed', 'credited', 'held', 'broadcast'] as const) {
          if (!own.includes(to)) expect(canTransition(kind, from, to)).toBe(false);
        }
      }
    }
    expect(isTerminal('deposit', 'reversed')).toBe(true);
    expect(isTerminal('withdrawal', 'completed')).toBe(true);
    expect(isTerminal('transfer', 'held')).toBe(false);
    expect(canTransition('transfer', 'held', 'completed')).toBe(true);
    expect(canTransition('deposit', 'credited', 'confirming')).toBe(false);
  });

  it('gives every status a translated default code', () => {
    for (const kind of PAYMENT_KINDS) {
      for (const status of statusesOf(kind)) {
        for (const dir of ['in', 'out'] as const) expect(EXPLANATION_CODES).toContain(defaultCode(kind, dir, status, null));
      }
    }
    for (const r of HOLD_REASONS) expect(defaultCode('deposit', 'in', 'confirming', r)).toBe(holdCode(r));
  });

  it('translates every explanation code and next action in both languages', () => {
    for (const code of EXPLANATION_CODES) {
      for (const locale of LOCALES) {
        expect(EXPLANATION_MESSAGES[code][locale], `${code} ${locale}`).toBeTruthy();
        expect(NEXT_ACTIONS[code][locale], `${code} next ${locale}`).toBeTruthy();
      }
      expect(EXPLANATION_MESSAGES[code].en).not.toBe(EXPLANATION_MESSAGES[code]['zh-CN']);
    }
    expect(Object.keys(EXPLANATION_MESSAGES).sort()).toEqual([...EXPLANATION_CODES].sort());
    expect(explain('deposit_confirming', 'zh-CN', { current: 2, required: 6 }).message).toContain('2/6');
  });

});
