/**
 * Default KYC tiers, journaled at genesis (so a later change of these defaults never changes how
 * an existing journal replays). The operator changes a tier with `PUT /v1/tiers/{tier}`.
 * Amounts in tiyn (1 KZT = 100 tiyn).
 */
import type { SetTierLimits } from './types.ts';

const kzt = (tenge: number): bigint => BigInt(tenge) * 100n;

export const defaultTiers: readonly SetTierLimits[] = [
  // Tier 0: anonymous (no identification), the lowest limits.
  { kind: 'x.set_tier_limits', tier: 0, holdingMax: kzt(100_000), perPaymentMax: kzt(50_000), dailyMax: kzt(100_000) },
  // Tier 1: simplified KYC (identified remotely).
  { kind: 'x.set_tier_limits', tier: 1, holdingMax: kzt(500_000), perPaymentMax: kzt(250_000), dailyMax: kzt(500_000) },
  // Tier 2: full KYC (identified in person).
  { kind: 'x.set_tier_limits', tier: 2, holdingMax: kzt(5_000_000), perPaymentMax: kzt(2_000_000), dailyMax: kzt(5_000_000) },
];
