import cliProgress from 'cli-progress';

/** A progress bar on a terminal's stderr; silent when stderr is not a TTY (CI, pipes, --json). */
export function progressBar(total: number, label: string, enabled: boolean): { update(step: number, best: number): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
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
