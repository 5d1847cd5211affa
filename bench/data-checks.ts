/**
 * Runs every data check in bench/data/ (`*.check.ts`): checks that need the
 * real data sets in ../shared, which the unit tests must not depend on.
 * Each check module default-exports `async (shared: string) => string[]`
 * returning lines to print, and throws on failure.
 */
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const shared = resolve(process.env.HUSH_SHARED ?? join(here, '..', '..', '..', 'shared'));

async function main(): Promise<void> {
  if (!existsSync(shared)) {
    console.error(`data checks: ../shared not found at ${shared} (set HUSH_SHARED)`);
    process.exit(1);
  }
  const dir = join(here, 'data');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.check.js')).sort();
  const only = process.argv.slice(2);
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    if (only.length && !only.some((o) => f.includes(o))) continue;
    const t0 = performance.now();
    try {
      const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: (s: string) => Promise<string[]> };
      const lines = await mod.default(shared);
      for (const l of lines) console.log(`  ${l}`);
      console.log(`ok ${f} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      passed++;
    } catch (e) {
      console.log(`FAIL ${f}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      failed++;
    }
  }
  console.log(`data checks: ${passed} passed, ${failed} failed`);
  if (failed > 0 || passed === 0) process.exit(1);
}

await main();
