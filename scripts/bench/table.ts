// One row per figure: the figure, its baseline measured in the same run, their ratio, and the target.
// Machines are noisy and shared, so the ratio is the figure to compare across runs; absolute values
// are checked against the targets of a 2-core machine.

export interface Target {
  /** The figure must be at least (`min`) or at most (`max`) this. */
  min?: number;
  max?: number;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  target?: Target;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function verdict(f: Figure): string {
  const t = f.target;
  if (!t) return '';
  const bad = (t.min !== undefined && f.value < t.min) || (t.max !== undefined && f.value > t.max);
  return bad ? 'MISSED' : 'ok';
}

const num = (v: number): string =>
  Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(Math.abs(v) >= 10 ? 1 : 2);

const targetText = (t: Target | undefined): string =>
  t === undefined ? '' : t.min !== undefined ? `>= ${num(t.min)}` : `<= ${num(t.max!)}`;

export function renderTable(title: string, figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${num(f.value)} ${f.unit}`,
    f.baseline ? `${f.baseline.name} = ${num(f.baseline.value)}` : '',
    f.baseline && f.baseline.value !== 0 ? `${(f.value / f.baseline.value).toFixed(2)}x` : '',
    targetText(f.target),
    verdict(f),
  ]);
  const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'target', ''];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 1 || i === 3 ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [`== ${title}`, line(head), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
