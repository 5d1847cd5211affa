/**
 * Argument parsing on node:util parseArgs (no dependency), with the house-style
 * messages: a usage error is a HushError that the CLI prints in one line and
 * turns into exit status 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HushError, invalidParameter } from '../core/errors.js';
import { closestChoice } from '../core/validate.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description?: string; valueName?: string };
export type OptionTable = Record<string, OptionSpec>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionTable;
  /** free text shown after the options */
  details?: string;
  examples?: string[];
}

export const COMMON_OPTIONS: OptionTable = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  verbose: { type: 'boolean', description: 'print stack traces for unexpected errors' },
};

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: OptionTable = { ...spec.options, ...COMMON_OPTIONS };
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [k, v] of Object.entries(options)) {
    config[k] = { type: v.type };
    if (v.short !== undefined) config[k].short = v.short;
    if (v.multiple !== undefined) config[k].multiple = v.multiple;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    const msg = (e as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg);
    if (unknown) {
      const guess = closestChoice(unknown[1].replace(/^-+/, ''), Object.keys(options));
      throw usageError(spec, `unknown option ${unknown[1]}${guess ? `. Did you mean --${guess}?` : ''}`);
    }
    throw usageError(spec, msg.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function usageError(spec: CommandSpec, what: string): HushError {
  return new HushError('ERR_INVALID_PARAMETER', `hush ${spec.name}: ${what}`, { hint: `see 'hush ${spec.name} --help'` });
}

/** A number option: undefined when absent, house-style error when not a finite number. */
export function numberOption(spec: CommandSpec, values: ParsedArgs['values'], name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  const n = s === '' ? Number.NaN : Number(s);
  if (!Number.isFinite(n)) throw invalidParameter(`hush ${spec.name}`, `--${name}`, 'a finite number', s);
  return n;
}

export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return v === undefined ? undefined : String(v);
}

export function formatHelp(spec: CommandSpec): string {
  const options: OptionTable = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(options).map(([k, v]) => {
    const flag = `${v.short ? `-${v.short}, ` : '    '}--${k}${v.type === 'string' ? ` ${v.valueName ?? 'VALUE'}` : ''}`;
    return [flag, v.description ?? ''];
  });
  const w = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  const lines = [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:'];
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(w)}${d}`);
  if (spec.details) lines.push('', spec.details.trimEnd());
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
