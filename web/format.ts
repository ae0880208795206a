// Dates, times and amounts for people, through Intl in the page's language. Amounts stay the
// API's decimal strings: Intl formats a numeric string exactly (no float on the way).

export function formatAmount(amount: string, locale: string): string {
  const digits = amount.split('.')[1]?.length ?? 0;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: Math.max(digits, 0) }).format(amount as `${number}`);
}

export function formatMoney(amount: string, asset: string, locale: string): string {
  return `${formatAmount(amount, locale)} ${asset}`;
}

export function formatDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));
}

/** formatDuration(90_000, 'en') -> '1 min, 30 sec' (seconds precision, never negative). */
export function formatDuration(ms: number, locale: string): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const parts: Array<[number, Intl.NumberFormatOptions['unit']]> = [[Math.floor(total / 3600), 'hour'], [Math.floor((total % 3600) / 60), 'minute'], [total % 60, 'second']];
  const shown = parts.filter(([n], i) => n > 0 || (i === 2 && total < 60));
  const list = shown.map(([n, unit]) => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(n));
  return new Intl.ListFormat(locale, { style: 'narrow', type: 'unit' }).format(list);
}

/** Whether a decimal string is a positive amount (what forms accept before asking the API). */
export function isPositiveDecimal(v: string): boolean {
  return /^\d+(\.\d+)?$/.test(v.trim()) && /[1-9]/.test(v);
}
