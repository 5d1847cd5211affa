import type { CommandSpec, OptionTable, ParsedArgs } from '../args.js';
import { numberOption, parseCommandArgs, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { READ_OPTIONS, WRITE_OPTIONS, readOptions, outputPath } from '../io-options.js';
import { readImage, writeImage } from '../../io/index.js';
import { NOISE_MODELS, NOISE_REGISTRY, noiseModelParams, type NoiseModel, type NoiseParamSpec } from '../../noise/index.js';
import { checkOneOf } from '../../core/validate.js';
import { HushError } from '../../core/errors.js';

/** `saltRatio` -> `salt-ratio`: flags are kebab-case, option names camelCase. */
export function flagName(param: string): string {
  return param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function describeParam(p: NoiseParamSpec): string {
  const extra: string[] = [];
  if (p.type === 'enum') extra.push(p.choices.join('|'));
  if (p.default !== undefined) extra.push(`default ${String(p.default)}`);
  if (p.required) extra.push('required');
  return `${p.description}${extra.length ? ` (${extra.join('; ')})` : ''}`;
}

/** Every parameter of every model becomes a flag; which ones apply is checked per model. */
function modelOptions(): OptionTable {
  const table: OptionTable = {};
  for (const id of NOISE_MODELS) {
    for (const p of NOISE_REGISTRY[id].params) {
      const flag = flagName(p.name);
      if (table[flag]) continue;
      table[flag] = p.type === 'boolean' ? { type: 'boolean', description: describeParam(p) } : { type: 'string', valueName: p.type === 'enum' ? 'CHOICE' : 'X', description: describeParam(p) };
    }
  }
  return table;
}

const modelHelp = NOISE_MODELS.map((id) => {
  const params = NOISE_REGISTRY[id].params.map((p) => `--${flagName(p.name)}`).join(' ');
  return `  ${id.padEnd(20)}${NOISE_REGISTRY[id].summary}\n  ${''.padEnd(20)}flags: ${params}${id === 'partial' ? ' + the inner model\'s flags' : ''}`;
}).join('\n');

export const spec: CommandSpec = {
  name: 'noise',
  summary: 'Add seeded noise to IN and write OUT. The same --seed gives the same noise.',
  usage: 'hush noise IN -o OUT --model MODEL [model flags] [--seed S] [--force]',
  options: {
    output: { type: 'string', short: 'o', valueName: 'OUT', description: 'where to write the noisy image' },
    model: { type: 'string', short: 'm', valueName: 'MODEL', description: `noise model: ${NOISE_MODELS.join(', ')}` },
    sigma255: { type: 'string', valueName: 'S', description: 'Gaussian sigma in 8-bit units (sigma = S/255), for images on [0,1]' },
    ...modelOptions(),
    ...WRITE_OPTIONS,
    ...READ_OPTIONS,
  },
  details: `Models:\n${modelHelp}\n\nNoise is computed in float and written in OUT's format: to keep the noisy values exactly (no clipping, no rounding), write .npy, .fits or a 32-bit .tif (--bit-depth is not needed for float sources).`,
  examples: [
    'hush noise clean.png -o noisy.png --model gaussian --sigma255 25 --seed 7',
    'hush noise clean.png -o noisy.npy --model gaussian --sigma 0.1',
    'hush noise sky.fits -o short.fits --model poisson-gaussian --ratio 4',
    'hush noise clean.png -o holes.png --model partial --inner salt-and-pepper --fraction 0.3 --amount 0.2',
  ],
};

function collectOptions(values: ParsedArgs['values'], params: readonly NoiseParamSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const raw = values[flagName(p.name)];
    if (raw === undefined) continue;
    if (p.type === 'number') {
      const s = String(raw).trim();
      out[p.name] = s === '' ? Number.NaN : Number(s);
      if (!Number.isFinite(out[p.name] as number)) out[p.name] = s; // keep the text so the message shows it
    } else out[p.name] = raw;
  }
  return out;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length !== 1) throw usageError(spec, `expected one input image, got ${positionals.length}`);
  const inPath = positionals[0];
  const out = outputPath(spec, values);
  if (values.model === undefined) throw usageError(spec, `missing --model (one of ${NOISE_MODELS.join(', ')})`);
  const model = checkOneOf('hush noise', '--model', values.model, NOISE_MODELS) as NoiseModel;
  const inner = model === 'partial' && values.inner !== undefined ? (checkOneOf('hush noise', '--inner', values.inner, NOISE_MODELS) as NoiseModel) : undefined;
  const params = noiseModelParams(model, inner);
  const allowed = new Set(['output', 'model', 'force', 'help', 'verbose', 'sigma255', ...Object.keys(READ_OPTIONS), ...params.map((p) => flagName(p.name))]);
  for (const k of Object.keys(values)) {
    if (values[k] !== undefined && !allowed.has(k)) {
      throw usageError(spec, `--${k} does not apply to --model ${model}${inner ? ` with --inner ${inner}` : ''} (its flags: ${params.map((p) => `--${flagName(p.name)}`).join(' ')})`);
    }
  }
  const image = await readImage(inPath, readOptions(spec, values));
  const options = collectOptions(values, params);
  const sigma255 = numberOption(spec, values, 'sigma255');
  if (sigma255 !== undefined) {
    if (!params.some((p) => p.name === 'sigma')) throw usageError(spec, `--sigma255 does not apply to --model ${model}${inner ? ` with --inner ${inner}` : ''}`);
    if (options.sigma !== undefined) throw usageError(spec, 'give --sigma or --sigma255, not both');
    if (image.source?.scale === 'physical') {
      throw new HushError('ERR_INVALID_PARAMETER', `hush noise: '${inPath}' holds float values, so --sigma255 has no meaning; give --sigma in the image's own units`, { param: '--sigma255' });
    }
    options.sigma = sigma255 / 255;
  }
  const noisy = NOISE_REGISTRY[model].add(image, options);
  await writeImage(out, noisy, { ifExists: values.force ? 'overwrite' : 'error', protect: [inPath], history: [`hush noise --model ${model}`] });
  io.stderr(`wrote ${out}: ${model} noise${options.sigma !== undefined ? ` sigma ${Number((options.sigma as number).toPrecision(6))}` : ''}, seed ${String(options.seed ?? 0)}\n`);
  return 0;
}
