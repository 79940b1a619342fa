// The README's generated sections: the option reference (from the option table) and the
// least-privilege `lncli bakemacaroon` lines (from the preflight's call table). `npm run docs:options`
// writes them between their markers; test/ops/docs.test.ts fails when the README differs.
import { homedir } from 'node:os';
import { bakeMacaroonCommand } from '../backends/lnd/preflight.js';
import { OPTIONS } from './config.js';
import { aliasesOn, defaultFor } from './options.js';

export const SECTIONS = {
  options: { begin: '<!-- options:begin (npm run docs:options) -->', end: '<!-- options:end -->' },
  macaroon: { begin: '<!-- bakemacaroon:begin (npm run docs:options) -->', end: '<!-- bakemacaroon:end -->' },
} as const;

// Defaults under the home directory print as ~/..., the same on every machine.
const home = homedir();
const cell = (s: string): string => s.replace(/\|/g, '\\|');

function defaults(o: (typeof OPTIONS)[number]): string {
  if (o.docDefault !== undefined) return o.docDefault;
  const lnd = o.hosts.includes('lnd') ? defaultFor(o, 'lnd') : undefined;
  const cln = o.hosts.includes('cln') ? defaultFor(o, 'cln') : undefined;
  const show = (v: string | undefined): string =>
    v === undefined
      ? o.required
        ? 'required'
        : 'unset'
      : v === ''
        ? '(empty)'
        : `\`${v.startsWith(home) ? `~${v.slice(home.length)}` : v}\``;
  if (lnd !== undefined && cln !== undefined && lnd !== cln) return `${show(lnd)} (CLN: ${show(cln)})`;
  return show(lnd ?? cln);
}

export function optionsReference(): string {
  const rows = OPTIONS.map((o) => {
    const hosts = o.hosts.length === 2 ? 'both' : o.hosts[0] === 'cln' ? 'CLN' : 'LND';
    const old = [...new Set([...aliasesOn(o, 'lnd'), ...aliasesOn(o, 'cln')])].map((a) => `\`${a}\``);
    const meaning =
      cell(o.help) + (old.length ? ` (was ${old.join(', ')}: still accepted, with a warning)` : '');
    return `| \`${o.name}\` | ${hosts} | ${cell(defaults(o))} | ${meaning} |`;
  });
  return ['| name | host | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function macaroonReference(): string {
  return [
    '```sh',
    '# LND 0.21.x',
    `lncli ${bakeMacaroonCommand('native').join(' ')}`,
    '# LND 0.20.x (onion messages as custom messages)',
    `lncli ${bakeMacaroonCommand('custom-message').join(' ')}`,
    '```',
  ].join('\n');
}

/** Replace each generated section of `readme` (between its markers) with `content[name]`. */
export function withSections(readme: string, content: Record<keyof typeof SECTIONS, string>): string {
  let out = readme;
  for (const [name, m] of Object.entries(SECTIONS) as [
    keyof typeof SECTIONS,
    (typeof SECTIONS)[keyof typeof SECTIONS],
  ][]) {
    const a = out.indexOf(m.begin);
    const b = out.indexOf(m.end);
    if (a < 0 || b < a) throw new Error(`README has no ${m.begin} ... ${m.end} section`);
    out = `${out.slice(0, a + m.begin.length)}\n\n${content[name]}\n\n${out.slice(b)}`;
  }
  return out;
}
