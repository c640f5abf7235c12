import cliProgress from 'cli-progress';

/** Seconds between plain progress lines when stderr is not a terminal. */
const LINE_EVERY_MS = 10_000;

/**
 * A progress bar on a terminal's stderr. When stderr is not a TTY (CI, pipes, logs) it writes a
 * plain line when the first step is done and then every 10 s, so a long run never looks dead.
 * `enabled: false` (e.g. --json) silences it.
 */
export function progressBar(total: number, label: string, enabled: boolean): { update(step: number, best: number): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  if (!process.stderr.isTTY) {
    let last = -Infinity;
    return {
      update(step, best) {
        const now = Date.now();
        if (now - last < LINE_EVERY_MS) return;
        last = now;
        process.stderr.write(`${label}: step ${step}/${total}, best ${Number.isFinite(best) ? best.toFixed(4) : '-'}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} steps | best {best}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { best: '-' });
  return {
    update(step, best) {
      bar.update(step, { best: Number.isFinite(best) ? best.toFixed(4) : '-' });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Plain text table with aligned columns. @example table([['a', 'b'], ['1', '2']]) */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}
