// The simulation's chart for an operator sizing caps: four stacked panels over simulated days (HTLCs
// held, amount held, slots on the busiest channel against the protocol and CLN limits, cap trips
// and expiries), drawn as SVG and rendered to PNG with resvg.
import { Resvg } from '@resvg/resvg-js';
import type { Sample, SimResult } from './run.js';

const W = 1200;
const PANEL_H = 210;
const GAP = 70;
const LEFT = 100;
const RIGHT = 40;
const TOP = 125;
const DAY = 24 * 3_600_000;

interface Series {
  label: string;
  color: string;
  values: number[];
  dashed?: boolean;
}

interface Limit {
  label: string;
  value: number;
  color: string;
}

interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  limits: Limit[];
  format?: (v: number) => string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range: number, target: number): number {
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

const group = (n: number): string => Math.round(n).toLocaleString('en-US');

function drawPanel(p: Panel, samples: Sample[], days: number, top: number): string {
  const x0 = LEFT;
  const x1 = W - RIGHT;
  const y0 = top + PANEL_H;
  const dataMax = Math.max(1, ...p.series.flatMap((s) => s.values));
  // A limit far above the data would flatten it: show it only when it is within reach.
  const shown = p.limits.filter((l) => l.value <= dataMax * 3);
  const hidden = p.limits.filter((l) => l.value > dataMax * 3);
  // Headroom above the data for the legend box, so it never hides a line.
  const legendH = (p.series.length + p.limits.length) * 18 + 24;
  const yMax = Math.max(dataMax, ...shown.map((l) => l.value)) / (1 - legendH / PANEL_H) / 0.97;
  const step = niceStep(yMax, 5);
  // Tick labels carry as many decimals as the step needs, so a small amount axis reads 0.05, 0.10.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const fmt = p.format ?? ((v: number) => (decimals > 0 ? v.toFixed(decimals) : group(v)));
  const X = (tMs: number): number => x0 + ((x1 - x0) * tMs) / (days * DAY);
  const Y = (v: number): number => y0 - (PANEL_H * v) / yMax;
  const out: string[] = [];
  out.push(`<text x="${x0}" y="${top - 12}" font-size="17" font-weight="bold">${esc(p.title)}</text>`);
  for (let v = 0; v <= yMax; v += step) {
    out.push(`<line x1="${x0}" x2="${x1}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x0 - 8}" y="${Y(v) + 4}" font-size="12" text-anchor="end">${esc(fmt(v))}</text>`);
  }
  const dayStep = Math.max(1, Math.ceil(days / 14));
  for (let d = 0; d <= days; d += dayStep) {
    out.push(`<line x1="${X(d * DAY)}" x2="${X(d * DAY)}" y1="${top}" y2="${y0}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${X(d * DAY)}" y="${y0 + 16}" font-size="12" text-anchor="middle">${d}</text>`);
  }
  out.push(`<rect x="${x0}" y="${top}" width="${x1 - x0}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
  out.push(
    `<text x="${(x0 + x1) / 2}" y="${y0 + 34}" font-size="13" text-anchor="middle">simulated time (days)</text>`,
  );
  out.push(
    `<text transform="translate(${x0 - 72} ${top + PANEL_H / 2}) rotate(-90)" font-size="13" text-anchor="middle">${esc(p.yLabel)}</text>`,
  );
  for (const l of shown) {
    out.push(
      `<line x1="${x0}" x2="${x1}" y1="${Y(l.value)}" y2="${Y(l.value)}" stroke="${l.color}" stroke-width="1.5" stroke-dasharray="7 5"/>`,
    );
  }
  for (const s of p.series) {
    const pts = s.values.map((v, i) => `${X(samples[i]!.tMs).toFixed(1)},${Y(v).toFixed(1)}`).join(' ');
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
  }
  // Legend, top left inside the panel.
  const items = [
    ...p.series.map((s) => ({ label: s.label, color: s.color, dash: s.dashed ? '4 3' : '' })),
    ...shown.map((l) => ({ label: `${l.label}: ${fmt(l.value)}`, color: l.color, dash: '7 5' })),
    ...hidden.map((l) => ({ label: `${l.label}: ${fmt(l.value)} (off scale)`, color: l.color, dash: '7 5' })),
  ];
  const lw = 380;
  out.push(
    `<rect x="${x0 + 10}" y="${top + 8}" width="${lw}" height="${items.length * 18 + 8}" fill="white" fill-opacity="0.9" stroke="#ccc"/>`,
  );
  items.forEach((it, i) => {
    const y = top + 22 + i * 18;
    out.push(
      `<line x1="${x0 + 18}" x2="${x0 + 46}" y1="${y - 4}" y2="${y - 4}" stroke="${it.color}" stroke-width="2"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/>`,
    );
    out.push(`<text x="${x0 + 54}" y="${y}" font-size="12">${esc(it.label)}</text>`);
  });
  return out.join('\n');
}

function describeOffline(r: SimResult): string {
  const o = r.params.offline;
  return o.kind === 'pareto'
    ? `offline time Pareto (scale ${o.scaleMs / 60_000} min, alpha ${o.alpha})`
    : `offline time lognormal (median ${o.medianMs / 60_000} min, sigma ${o.sigma})`;
}

export function chartSvg(r: SimResult): string {
  const s = r.samples;
  const p = r.params;
  const btc = (msat: number): number => msat / 1e11;
  const panels: Panel[] = [
    {
      title: 'Async HTLCs held at the LSP',
      yLabel: 'HTLCs held',
      series: [{ label: 'HTLCs held', color: '#1f77b4', values: s.map((x) => x.held) }],
      limits: [{ label: 'global count cap', value: p.caps.globalCount, color: '#d62728' }],
    },
    {
      title: 'Amount held',
      yLabel: 'BTC held',
      series: [{ label: 'amount held (BTC)', color: '#2ca02c', values: s.map((x) => btc(x.heldMsat)) }],
      limits: [{ label: 'global amount cap (BTC)', value: btc(Number(p.caps.globalMsat)), color: '#d62728' }],
    },
    {
      title: 'HTLC slots in use on the busiest incoming channel',
      yLabel: 'slots (HTLCs)',
      series: [{ label: 'busiest channel', color: '#9467bd', values: s.map((x) => x.maxSlots) }],
      limits: [
        { label: 'BOLT 2 max_accepted_htlcs', value: 483, color: '#d62728' },
        { label: 'per-peer count cap', value: p.caps.perPeerCount, color: '#ff7f0e' },
        { label: 'CLN default max-concurrent-htlcs', value: 30, color: '#8c564b' },
      ],
    },
    {
      title: 'Cap trips and expiries (cumulative)',
      yLabel: 'count',
      series: [
        {
          label: `cap trips (HTLCs refused): ${group(s.at(-1)?.capTrips ?? 0)} in all`,
          color: '#ff7f0e',
          values: s.map((x) => x.capTrips),
        },
        {
          label: `expiries (failed at the deadline): ${group(s.at(-1)?.expiries ?? 0)} in all`,
          color: '#d62728',
          values: s.map((x) => x.expiries),
        },
      ],
      limits: [],
    },
  ];
  const h = TOP + panels.length * (PANEL_H + GAP) + 20;
  const sum = r.summary;
  const sub =
    `${group(p.ratePerHour)} async payments/h over ${p.channels} incoming channels (Zipf ${p.zipf}), ` +
    `${Math.round(p.mppShare * 100)}% multi-part, ${describeOffline(r)}`;
  const sub1 =
    `payment size lognormal (median ${group(p.amountSat)} sat), CLTV headroom ${p.cltvMin}-${p.cltvMax} blocks, ` +
    `max hold ${p.maxHoldBlocks} blocks, caps: ${group(p.caps.perPeerCount)} HTLCs per peer, ${group(p.caps.globalCount)} in all; seed ${p.seed}`;
  const sub2 =
    `${group(sum.payments)} payments: ${group(sum.released)} released, ${group(sum.expired)} HTLCs expired, ` +
    `${group(Object.values(sum.capTrips).reduce((a, b) => a + (b ?? 0), 0))} cap trips; release delay after the recipient returns: ` +
    `median ${Math.round(sum.releaseDelayMedianMs / 1000)} s, p99 ${Math.round(sum.releaseDelayP99Ms / 1000)} s`;
  const body = panels.map((pn, i) => drawPanel(pn, s, p.days, TOP + i * (PANEL_H + GAP))).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${h}" fill="white"/>`,
    `<text x="${LEFT}" y="30" font-size="21" font-weight="bold">async-trampoline: LSP hold simulation (real hold engine, simulated host and clock)</text>`,
    `<text x="${LEFT}" y="52" font-size="13">${esc(sub)}</text>`,
    `<text x="${LEFT}" y="70" font-size="13">${esc(sub1)}</text>`,
    `<text x="${LEFT}" y="88" font-size="13">${esc(sub2)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

export function chartPng(r: SimResult): Buffer {
  const resvg = new Resvg(chartSvg(r), {
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
