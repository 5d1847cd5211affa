/**
 * Atomic output: write to a temporary file in the destination folder, then move
 * it into place, so a crash never leaves a half-written output and an existing
 * file is only replaced when the caller says so.
 */
import { open, link, rename, rm, unlink, stat } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HushError } from '../core/errors.js';

export const IF_EXISTS = ['error', 'overwrite'] as const;
export type IfExists = (typeof IF_EXISTS)[number];

export interface WriteFileAtomicOptions {
  /** what to do when `path` already exists; default 'error' */
  ifExists?: IfExists;
  /** paths that must never be written (the inputs of a command) */
  protect?: readonly string[];
  /**
   * 'process' (default): the rename makes the write atomic if the process dies or is killed;
   * 'power-loss': also fsync before the rename (slow for large files: seconds per 100 MB here).
   */
  durability?: 'process' | 'power-loss';
}

export async function writeFileAtomic(path: string, bytes: Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const ifExists = options.ifExists ?? 'error';
  const target = resolve(path);
  for (const p of options.protect ?? []) {
    if (await sameFile(p, target)) {
      throw new HushError('ERR_EXISTS', `refusing to write '${path}': it is an input of this command; choose another output path`, {
        file: path,
      });
    }
  }
  if (ifExists === 'error' && (await exists(target))) {
    throw existsError(path);
  }
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'wx');
  } catch (e) {
    throw new HushError('ERR_IO', `cannot write '${path}': ${(e as Error).message}`, { file: path, cause: e });
  }
  try {
    await fh.writeFile(bytes);
    if (options.durability === 'power-loss') await fh.sync();
    await fh.close();
    fh = undefined;
    if (ifExists === 'error') {
      // link() fails if the target appeared meanwhile, so two writers never clobber each other
      try {
        await link(tmp, target);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw existsError(path);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw e;
        if (await exists(target)) throw existsError(path);
        await rename(tmp, target);
        return;
      }
      await unlink(tmp);
    } else {
      await rename(tmp, target);
    }
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (e instanceof HushError) throw e;
    throw new HushError('ERR_IO', `cannot write '${path}': ${(e as Error).message}`, { file: path, cause: e });
  }
}

function existsError(path: string): HushError {
  return new HushError('ERR_EXISTS', `refusing to overwrite '${path}': it exists (use --force to replace it)`, {
    file: path,
    hint: 'use --force to replace it',
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}

/**
 * Puts the folder `tmp`, written whole, in place of `dir`: dir -> dir.old, tmp -> dir,
 * then dir.old is removed. A kill at any point leaves one whole folder (dir or dir.old).
 */
export async function swapInDir(tmp: string, dir: string): Promise<void> {
  await rm(`${dir}.old`, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, `${dir}.old`);
  await rename(tmp, dir);
  await rm(`${dir}.old`, { recursive: true, force: true });
}
