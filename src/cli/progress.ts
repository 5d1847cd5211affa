/**
 * Progress for long CLI work, on stderr: a bar with percentage and ETA redrawn in place
 * when stderr is a terminal, plain lines every few seconds otherwise (logs, CI, pipes).
 * Nothing is shown for work that ends within `delaySeconds`, so quick runs stay quiet.
 */

export interface ProgressOptions {
  /** what is being done: 'denoise', 'calibrate nl-means' */
  label: string;
  write: (s: string) => void;
  /** redraw in place (a terminal) or print lines */
  isTTY: boolean;
  /** show nothing before this many seconds (default 1) */
  delaySeconds?: number;
  /** seconds between plain lines (default 10) */
  intervalSeconds?: number;
  /** bar width in characters (default 30) */
  width?: number;
  /** clock in milliseconds (default performance.now), for tests */
  now?: () => number;
  /**
   * the work may start part-way (a resumed training run): the ETA is then measured from
   * the first update, at its fraction, instead of from 0 at creation, so that work done
   * before this process does not make the rest look quick
   */
  etaFromFirstUpdate?: boolean;
}

export interface Progress {
  /** the fraction done, 0..1 (values going back are ignored), and an optional detail shown after the ETA (loss, PSNR...) */
  update(fraction: number, detail?: string): void;
  /** ends the display: the bar is completed and the line ended, if anything was shown */
  done(): void;
}

/** '7 s', '2 min 5 s', '1 h 3 min' */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const delay = (options.delaySeconds ?? 1) * 1000;
  const interval = (options.intervalSeconds ?? 10) * 1000;
  const width = options.width ?? 30;
  const t0 = now();
  let fraction = 0;
  let shown = false;
  let lastDraw = -Infinity;
  let finished = false;
  // where the ETA is measured from: creation at 0, or the first update (etaFromFirstUpdate)
  let base: { t: number; fraction: number } | undefined = options.etaFromFirstUpdate ? undefined : { t: t0, fraction: 0 };

  const eta = (t: number): string => {
    if (!base || fraction <= base.fraction) return 'ETA ?';
    const elapsed = (t - base.t) / 1000;
    return `ETA ${formatDuration((elapsed * (1 - fraction)) / (fraction - base.fraction))}`;
  };
  const bar = (): string => {
    const full = Math.round(fraction * width);
    return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
  };
  const pct = (): string => `${Math.floor(fraction * 100)}%`.padStart(4);

  return {
    update(f: number, detail?: string): void {
      if (finished || !Number.isFinite(f)) return;
      const extra = detail ? ` ${detail}` : '';
      fraction = Math.min(1, Math.max(fraction, f));
      const t = now();
      base ??= { t, fraction };
      if (t - t0 < delay) return;
      if (options.isTTY) {
        if (t - lastDraw < 100 && fraction < 1) return;
        options.write(`\r${options.label} ${bar()} ${pct()} ${eta(t)}${extra}\x1b[K`);
      } else {
        if (t - lastDraw < interval) return;
        options.write(`${options.label}: ${pct().trim()} done, ${formatDuration((t - t0) / 1000)} elapsed, ${eta(t)}${extra}\n`);
      }
      shown = true;
      lastDraw = t;
    },
    done(): void {
      if (finished) return;
      finished = true;
      if (!shown) return;
      const elapsed = formatDuration((now() - t0) / 1000);
      if (options.isTTY) options.write(`\r${options.label} [${'#'.repeat(width)}] 100% in ${elapsed}\x1b[K\n`);
      else options.write(`${options.label}: done in ${elapsed}\n`);
    },
  };
}
