/**
 * `hush models`: the model zoo from its registry, with parameter counts and FLOPs
 * per pixel counted from each built network (so the numbers are the networks', not
 * hand estimates).
 */
import type { CommandSpec } from '../args.js';
import { parseCommandArgs, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { BUILTIN_MODELS } from '../../runtime/denoise-model.js';
import { checkOneOf } from '../../core/validate.js';

export const spec: CommandSpec = {
  name: 'models',
  summary: 'List the neural network architectures, their presets, parameter counts and FLOPs per pixel.',
  usage: 'hush models [ARCHITECTURE] [--channels 1|3] [--json]',
  options: {
    channels: { type: 'string', valueName: 'N', description: 'count for 1 (grey, default) or 3 (RGB) channels' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  details: 'With ARCHITECTURE, also lists its options. Models are built on the fly (random weights) to count; nothing is downloaded.',
  examples: ['hush models', 'hush models unet', 'hush models dncnn --channels 3 --json'],
};

function si(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length > 1) throw usageError(spec, `expected at most one ARCHITECTURE, got ${positionals.length}`);
  const { MODEL_ARCHITECTURES, MODEL_REGISTRY, modelStats } = await import('../../models/index.js');
  const ids = positionals.length === 1 ? [checkOneOf('hush models', 'ARCHITECTURE', positionals[0], MODEL_ARCHITECTURES)] : [...MODEL_ARCHITECTURES];
  const channels = values.channels === undefined ? 1 : Number(checkOneOf('hush models', '--channels', String(values.channels), ['1', '3']));
  const rows: { architecture: string; preset: string; parameters: number; flopsPerPixel: number; multiple: number; summary: string }[] = [];
  for (const id of ids) {
    const info = MODEL_REGISTRY[id];
    const presets = Object.keys(info.presets);
    for (const preset of presets.length ? presets : ['']) {
      const s = await modelStats(id, { channels: channels as 1 | 3, ...(preset ? { preset } : {}) });
      rows.push({ architecture: id, preset, ...s, summary: info.summary });
    }
  }
  if (values.json) {
    const details = ids.length === 1 ? { params: MODEL_REGISTRY[ids[0]].params, presets: MODEL_REGISTRY[ids[0]].presets, reference: MODEL_REGISTRY[ids[0]].reference } : {};
    io.stdout(`${JSON.stringify({ channels, models: rows, trained: BUILTIN_MODELS, ...details }, null, 2)}\n`);
    return 0;
  }
  const lines = [`Neural architectures (${channels === 1 ? 'grey' : 'RGB'}; FLOPs of one forward pass per input pixel):`, ''];
  lines.push(`  ${'architecture'.padEnd(19)}${'preset'.padEnd(12)}${'params'.padStart(9)}${'FLOPs/px'.padStart(10)}${'multiple'.padStart(10)}  summary`);
  let last = '';
  for (const r of rows) {
    const name = r.architecture === last ? '' : r.architecture;
    last = r.architecture;
    lines.push(`  ${name.padEnd(19)}${(r.preset || '-').padEnd(12)}${si(r.parameters).padStart(9)}${si(r.flopsPerPixel).padStart(10)}${String(r.multiple).padStart(10)}  ${name ? r.summary : ''}`.trimEnd());
  }
  if (ids.length === 1) {
    const info = MODEL_REGISTRY[ids[0]];
    lines.push('', `${info.id}: ${info.reference}`, 'options:');
    for (const p of info.params) {
      const range = p.type === 'enum' ? p.choices.join('|') : p.type === 'number' ? `${p.min ?? ''}..${p.max ?? ''}` : 'true|false';
      lines.push(`  ${p.name.padEnd(16)}${range.padEnd(38)}${p.description}${p.default !== undefined ? ` (default ${String(p.default)})` : ''}`);
    }
    lines.push('', `presets: ${Object.entries(info.presets).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join('; ')}`);
  }
  if (ids.length > 1) {
    lines.push('', 'Trained models shipped with hush (hush denoise IN -o OUT --model NAME):', '');
    for (const m of BUILTIN_MODELS) lines.push(`  ${m.id.padEnd(19)}${m.summary}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
