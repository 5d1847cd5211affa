import { main, type CliIO } from '../../src/cli/main.js';

/** Runs the CLI in-process, collecting what it writes. */
export async function cli(args: string[], isTTY = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY };
  const code = await main(args, io);
  return { code, out, err };
}
