/**
 * One validation helper for every public option, so checks and error texts
 * come from the same constants (house style: sharp's `is.*` + `invalidParameterError`).
 */
import { invalidParameter } from './errors.js';

export interface NumberRule {
  min?: number;
  max?: number;
  /** exclusive lower bound */
  above?: number;
  integer?: boolean;
  odd?: boolean;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.odd ? 'an odd integer' : rule.integer ? 'an integer' : 'a finite number';
  const lo = rule.above !== undefined ? `above ${rule.above}` : undefined;
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (lo && rule.max !== undefined) return `${kind} ${lo} and at most ${rule.max}`;
  if (lo) return `${kind} ${lo}`;
  if (rule.min !== undefined) return `${kind} of at least ${rule.min}`;
  if (rule.max !== undefined) return `${kind} of at most ${rule.max}`;
  return kind;
}

export function checkNumber(fn: string, param: string, value: unknown, rule: NumberRule = {}): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer && !rule.odd ? true : Number.isInteger(value)) &&
    (!rule.odd || Math.abs(value % 2) === 1) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max) &&
    (rule.above === undefined || value > rule.above);
  if (!ok) throw invalidParameter(fn, param, describeRule(rule), value);
  return value as number;
}

/** Like checkNumber, but `undefined` yields the default. `0` is a real value. */
export function optionalNumber(
  fn: string,
  param: string,
  value: unknown,
  fallback: number,
  rule: NumberRule = {},
): number {
  return value === undefined ? checkNumber(fn, param, fallback, rule) : checkNumber(fn, param, value, rule);
}

export function levenshtein(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n];
}

export function closestChoice(value: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const d = c.startsWith(value) || value.startsWith(c) ? 1 : levenshtein(value.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

export function describeChoices(choices: readonly string[]): string {
  return `one of ${choices.map((c) => `'${c}'`).join(', ')}`;
}

export function checkOneOf<T extends string>(fn: string, param: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const guess = typeof value === 'string' ? closestChoice(value, choices) : undefined;
  throw invalidParameter(fn, param, describeChoices(choices), value, guess ? `Did you mean '${guess}'?` : undefined);
}

export function checkBoolean(fn: string, param: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidParameter(fn, param, 'a boolean', value);
  return value;
}

export function checkObject(fn: string, param: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParameter(fn, param, 'an object', value);
  }
  return value as Record<string, unknown>;
}
