/** What the noise speed benches share: the row shape, the clock, the numpy runner and the huge-page note. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Row {
  what: string;
  samples: number;
  samplesPerSecond: number;
  note?: string;
}

/**
 * numpy asks for transparent huge pages on large arrays (madvise); V8 does not, so where the
 * kernel gives them only on request, a new output buffer costs hush many more page faults.
 */
export function hugePageNote(): string[] {
  try {
    const mode = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
    if (mode !== 'madvise') return [];
    return [
      'Transparent huge pages are on request only (madvise) here: numpy requests them for large arrays and V8 does not, ' +
        'so first writes to a new output buffer take many more page faults in hush than in numpy. ' +
        'The cases that allocate a new image per call include that cost; the Float32Array.slice row, where present, measures it alone.',
    ];
  } catch {
    return [];
  }
}

export function seconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Runs a numpy script that prints one JSON object; a string says why it could not run. */
export function runNumpy(code: string): Record<string, number | string> | string {
  try {
    const text = execFileSync('python3', ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    return JSON.parse(text) as Record<string, number | string>;
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr ?? String(e);
    return /No module named 'numpy'/.test(msg) ? 'python3 has no numpy' : `python3 -c failed: ${msg.trim().split('\n').pop()}`;
  }
}
