// Seeded webhook operations and the in-memory model the store must agree with.
import type { SetOutcome } from '../../plugin/lsps/lsps5/store.js';
import { prng } from '../helpers/prng.js';

export type Op =
  | { kind: 'set'; client: string; appName: string; url: string; max: number }
  | { kind: 'remove'; client: string; appName: string };

export const MAX = 3;
export const OPS = 400;

export function operations(seed: number): Op[] {
  const r = prng(seed);
  const pick = (n: number): number => Math.floor(r() * n);
  return Array.from({ length: OPS }, (): Op => {
    const client = `02${String(pick(3)).repeat(64)}`;
    const appName = `app ${pick(5)}`;
    return r() < 0.7
      ? { kind: 'set', client, appName, url: `https://e.org/${pick(3)}`, max: MAX }
      : { kind: 'remove', client, appName };
  });
}

export type Model = Map<string, Map<string, string>>;

/** Applies one op to the model; returns what the store must answer. */
export function applyModel(m: Model, op: Op): SetOutcome | boolean {
  const hooks = m.get(op.client) ?? new Map<string, string>();
  m.set(op.client, hooks);
  if (op.kind === 'remove') return hooks.delete(op.appName);
  const had = hooks.get(op.appName);
  if (had !== undefined) {
    if (had === op.url) return { kind: 'unchanged', count: hooks.size };
    hooks.set(op.appName, op.url);
    return { kind: 'replaced', count: hooks.size };
  }
  if (hooks.size >= op.max) return { kind: 'full', count: hooks.size };
  hooks.set(op.appName, op.url);
  return { kind: 'added', count: hooks.size };
}
