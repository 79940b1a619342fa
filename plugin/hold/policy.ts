// Engine configuration (with defaults) and the caps that bound what we hold.
import type { InterceptedHtlc, Msat } from './backend.js';

export interface HoldCaps {
  /** Active holds per incoming peer (peer id, else incoming channel). */
  perPeerCount: number;
  perPeerMsat: Msat;
  globalCount: number;
  globalMsat: Msat;
}

export interface EngineConfig {
  /** Our own cap on a hold's length; the sender's async_hold max_hold_blocks may lower it. */
  maxHoldBlocks: number;
  /** Fail this many blocks before the incoming expiry. */
  safetyBlocks: number;
  /** Blocks the next hop needs before our outgoing_cltv_value. */
  downstreamMinBlocks: number;
  /** Refuse at intake an HTLC whose deadline is closer than this. */
  minHoldBlocks: number;
  caps: HoldCaps;
  /** An MPP set that has not arrived in full after this long fails as a whole. */
  mppTimeoutMs: number;
  /** How long a release that names no known hold waits for its HTLC. */
  earlyReleaseMs: number;
  earlyReleaseMax: number;
  /** held_htlc_available retry: first delay, doubling up to the cap. */
  notifyBaseMs: number;
  notifyCapMs: number;
  /** Trampoline fee we keep: incoming − onward payment must cover it. */
  trampolineFeeBaseMsat: Msat;
  trampolineFeePpm: number;
  /** Finished holds are kept this long for replays and operators, then pruned at start. */
  retentionMs: number;
}

export const defaultEngineConfig: EngineConfig = {
  maxHoldBlocks: 1008,
  safetyBlocks: 12,
  downstreamMinBlocks: 18,
  minHoldBlocks: 6,
  caps: {
    perPeerCount: 200,
    perPeerMsat: 50_000_000_000n,
    globalCount: 20_000,
    globalMsat: 1_000_000_000_000n,
  },
  mppTimeoutMs: 60_000,
  earlyReleaseMs: 120_000,
  earlyReleaseMax: 10_000,
  notifyBaseMs: 5_000,
  notifyCapMs: 10 * 60_000,
  trampolineFeeBaseMsat: 1_000n,
  trampolineFeePpm: 1_000,
  retentionMs: 14 * 24 * 3600_000,
};

export type EngineConfigInput = Partial<Omit<EngineConfig, 'caps'>> & { caps?: Partial<HoldCaps> };

export function resolveEngineConfig(input: EngineConfigInput = {}): EngineConfig {
  return {
    ...defaultEngineConfig,
    ...input,
    caps: { ...defaultEngineConfig.caps, ...input.caps },
  };
}

export function trampolineFee(cfg: EngineConfig, incoming: Msat): Msat {
  return cfg.trampolineFeeBaseMsat + (incoming * BigInt(cfg.trampolineFeePpm)) / 1_000_000n;
}

/** Which peer an HTLC counts against: its node id when the host names it, else its channel. */
export function peerKeyOf(h: Pick<InterceptedHtlc, 'incomingPeer' | 'incomingChannel'>): string {
  return h.incomingPeer !== undefined ? `peer:${h.incomingPeer}` : `chan:${h.incomingChannel}`;
}

export type CapName = 'per_peer_count' | 'per_peer_msat' | 'global_count' | 'global_msat';

interface Usage {
  count: number;
  msat: Msat;
  /** The map's own key: holds keep this one, not a fresh copy per HTLC. */
  key: string;
}

/** Running totals of active holds, checked before a new one is accepted. */
export class CapTracker {
  private readonly global: Usage = { count: 0, msat: 0n, key: '' };
  private readonly peers = new Map<string, Usage>();

  constructor(private readonly caps: HoldCaps) {}

  /** The first cap this HTLC would break, or undefined when it fits. */
  check(peer: string, amount: Msat): CapName | undefined {
    const p = this.peers.get(peer) ?? { count: 0, msat: 0n, key: peer };
    if (p.count + 1 > this.caps.perPeerCount) return 'per_peer_count';
    if (p.msat + amount > this.caps.perPeerMsat) return 'per_peer_msat';
    if (this.global.count + 1 > this.caps.globalCount) return 'global_count';
    if (this.global.msat + amount > this.caps.globalMsat) return 'global_msat';
    return undefined;
  }

  /** Count a hold against its peer; returns the peer key to keep (one string per peer). */
  add(peer: string, amount: Msat): string {
    let p = this.peers.get(peer);
    if (!p) {
      p = { count: 0, msat: 0n, key: peer };
      this.peers.set(peer, p);
    }
    p.count += 1;
    p.msat += amount;
    this.global.count += 1;
    this.global.msat += amount;
    return p.key;
  }

  remove(peer: string, amount: Msat): void {
    const p = this.peers.get(peer);
    if (p) {
      p.count -= 1;
      p.msat -= amount;
      if (p.count <= 0) this.peers.delete(peer);
    }
    this.global.count -= 1;
    this.global.msat -= amount;
  }

  totals(): { count: number; msat: Msat } {
    return { count: this.global.count, msat: this.global.msat };
  }
}
