// Human-readable output of the operator commands: a table for list, `key: value` lines otherwise.
// Scripts use --json, which prints the answer unchanged.
import type { AdminCommand } from './admin.js';

const LIST_COLUMNS = [
  'hold_id',
  'htlc_key',
  'state',
  'amount_in_msat',
  'fail_at',
  'blocks_left',
  'payment_hash',
] as const;

const text = (v: unknown): string => (v === undefined || v === null ? '-' : String(v));

export function table(rows: Record<string, unknown>[], columns: readonly string[]): string {
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** Nested objects flattened as `a.b: value`. */
export function keyValues(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const name = prefix + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      return Object.keys(v).length === 0
        ? [`${name}: -`]
        : keyValues(v as Record<string, unknown>, `${name}.`);
    return [`${name}: ${Array.isArray(v) ? v.join(', ') : text(v)}`];
  });
}

export function renderAnswer(command: AdminCommand, body: Record<string, unknown>): string {
  if (command === 'list') {
    const holds = (body.holds as Record<string, unknown>[] | undefined) ?? [];
    return holds.length === 0 ? 'no holds\n' : table(holds, LIST_COLUMNS);
  }
  if (command === 'release' || command === 'fail') {
    const ids = (body.hold_ids as string[] | undefined) ?? [];
    return `${command === 'release' ? 'released' : 'failed'} ${ids.length} hold(s): ${ids.join(' ')}\n`;
  }
  return keyValues(body).join('\n') + '\n';
}
