/**
 * Declarative parameter specs: one table per algorithm feeds validation,
 * defaults, CLI flags and generated docs.
 */
import { checkNumber, checkOneOf, checkBoolean, type NumberRule } from './validate.js';
import { invalidParameter } from './errors.js';

export type ParamSpec =
  | ({
      name: string;
      type: 'number';
      default?: number;
      description: string;
      cli?: string;
      /**
       * the output moves in jumps as this parameter changes (an iteration count or a
       * stopping rule moves with it), so calibration does not interpolate between grid values
       */
      stepwise?: boolean;
    } & NumberRule)
  | { name: string; type: 'enum'; choices: readonly string[]; default?: string; description: string; cli?: string }
  | { name: string; type: 'boolean'; default?: boolean; description: string; cli?: string };

/**
 * Validates `options` against `specs`, fills defaults, and rejects unknown keys
 * (a misspelt option silently ignored is a bug the user never sees).
 */
export function resolveParams(
  fn: string,
  specs: readonly ParamSpec[],
  options: Record<string, unknown> | undefined,
  allowExtra: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const opts = options ?? {};
  const known = new Set([...specs.map((s) => s.name), ...allowExtra]);
  for (const key of Object.keys(opts)) {
    if (!known.has(key) && opts[key] !== undefined) {
      throw invalidParameter(fn, 'options', `only the options ${[...known].map((k) => `'${k}'`).join(', ')}`, key);
    }
  }
  for (const s of specs) {
    const v = opts[s.name] ?? s.default;
    if (v === undefined) continue;
    const p = `options.${s.name}`;
    if (s.type === 'number') out[s.name] = checkNumber(fn, p, v, s);
    else if (s.type === 'enum') out[s.name] = checkOneOf(fn, p, v, s.choices);
    else out[s.name] = checkBoolean(fn, p, v);
  }
  for (const k of allowExtra) if (opts[k] !== undefined) out[k] = opts[k];
  return out;
}
