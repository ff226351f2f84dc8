/**
 * Commands and records of the two-tier platform: participants (the central bank's operator,
 * intermediary banks, merchants, government bodies, auditors, regulators), wallets and payments.
 * Commands are journaled as they are; the transfers they cause are derived again on replay.
 */

export const roles = ['operator', 'bank', 'merchant', 'government', 'auditor', 'regulator'] as const;
export type Role = (typeof roles)[number];
/** Roles a participant record can have (the operator is the token holder, not a participant). */
export const participantRoles = ['bank', 'merchant', 'government', 'auditor', 'regulator'] as const;
export type ParticipantRole = (typeof participantRoles)[number];

export const walletKinds = ['individual', 'merchant', 'government'] as const;
export type WalletKind = (typeof walletKinds)[number];
export const tiers = [0, 1, 2] as const;
export type Tier = (typeof tiers)[number];

export type ParticipantStatus = 'active' | 'suspended';
export type WalletStatus = 'active' | 'frozen' | 'closed';

export interface TierLimits {
  readonly tier: number;
  /** Most a wallet of this tier may hold; more arriving goes to the holder's bank account. */
  readonly holdingMax: bigint;
  readonly perPaymentMax: bigint;
  /** Most a wallet may pay out per UTC day (payments and refunds it sends). */
  readonly dailyMax: bigint;
}

// ---- commands ---------------------------------------------------------------------------------

export interface SetTierLimits {
  readonly kind: 'x.set_tier_limits';
  readonly tier: number;
  readonly holdingMax: bigint;
  readonly perPaymentMax: bigint;
  readonly dailyMax: bigint;
}

export interface RegisterParticipant {
  readonly kind: 'x.register_participant';
  readonly id: string;
  readonly role: ParticipantRole;
  readonly name: string;
  /** Banks only: the bank's BIC; '' otherwise. */
  readonly bic: string;
  /** Merchants and government bodies: the wallet they act for; '' otherwise. */
  readonly wallet: string;
  /** SHA-256 of the participant's API key, lower-case hex. The key itself is never stored. */
  readonly keyHash: string;
}

export interface SetParticipantStatus {
  readonly kind: 'x.set_participant_status';
  readonly id: string;
  readonly status: ParticipantStatus;
}

export interface SetParticipantKey {
  readonly kind: 'x.set_participant_key';
  readonly id: string;
  readonly keyHash: string;
}

export interface SetIssuanceCap {
  readonly kind: 'x.set_issuance_cap';
  readonly bank: string;
  /** -1 removes the cap. */
  readonly cap: bigint;
}

/** Reserve top-up (operator), issuance and redemption (bank). `id` makes retries safe. */
export interface ReserveOperation {
  readonly kind: 'x.top_up_reserves' | 'x.issue' | 'x.redeem';
  readonly id: string;
  readonly bank: string;
  readonly amount: bigint;
}

export interface OpenWallet {
  readonly kind: 'x.open_wallet';
  readonly id: string;
  readonly bank: string;
  readonly publicKey: string;
  readonly walletKind: WalletKind;
  readonly tier: number;
  readonly convertIncoming: boolean;
}

export interface SetWalletStatus {
  readonly kind: 'x.set_wallet_status';
  readonly id: string;
  readonly status: 'active' | 'frozen';
  readonly reason: string;
  /** Who ordered it: the wallet's bank, or 'operator' (the central bank). Kept for the audit trail. */
  readonly actor: string;
}

export interface SetWalletKey {
  readonly kind: 'x.set_wallet_key';
  readonly id: string;
  readonly publicKey: string;
  readonly reason: 'rotation' | 'recovery';
}

export interface SetWalletTier {
  readonly kind: 'x.set_wallet_tier';
  readonly id: string;
  readonly tier: number;
}

export interface SetWalletConversion {
  readonly kind: 'x.set_wallet_conversion';
  readonly id: string;
  readonly convertIncoming: boolean;
}

export interface CloseWallet {
  readonly kind: 'x.close_wallet';
  readonly id: string;
  /** Where the balance goes: another wallet's id, or '' for the holder's bank account. */
  readonly sweepTo: string;
}

/**
 * Money between a wallet and its holder's bank account at the wallet's bank:
 * `fund` (bank account to wallet), `defund` (wallet to bank account), and the bank's mirror of
 * its own books: `credit_account` / `debit_account` (money arriving at or leaving the holder's
 * bank account other than through the wallet).
 */
export interface WalletOperation {
  readonly kind: 'x.fund' | 'x.defund' | 'x.credit_account' | 'x.debit_account';
  readonly id: string;
  readonly wallet: string;
  readonly amount: bigint;
}

export interface Pay {
  readonly kind: 'x.pay';
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  readonly sequence: number;
  /** Milliseconds since the epoch, 0 for none. */
  readonly expiresAt: number;
  readonly reference: string;
  /** Payment request paid by this payment, or ''. */
  readonly request: string;
  /** Payment refunded by this payment, or ''. */
  readonly refundOf: string;
  /** Version of the payer's key that verified the signature (checked again in the sequencer). */
  readonly keyVersion: number;
}

export interface CreatePaymentRequest {
  readonly kind: 'x.create_payment_request';
  readonly id: string;
  readonly wallet: string;
  readonly amount: bigint;
  readonly reference: string;
  /** Milliseconds since the epoch, 0 for none. */
  readonly expiresAt: number;
}

export type PlatformCommand =
  | SetTierLimits
  | RegisterParticipant
  | SetParticipantStatus
  | SetParticipantKey
  | SetIssuanceCap
  | ReserveOperation
  | OpenWallet
  | SetWalletStatus
  | SetWalletKey
  | SetWalletTier
  | SetWalletConversion
  | CloseWallet
  | WalletOperation
  | Pay
  | CreatePaymentRequest;

// ---- records ----------------------------------------------------------------------------------

export interface Participant {
  readonly id: string;
  readonly role: ParticipantRole;
  readonly name: string;
  readonly bic: string | null;
  readonly wallet: string | null;
  /** The bank a merchant or government body banks with (its wallet's bank); a bank's own id. */
  readonly bank: string | null;
  readonly status: ParticipantStatus;
  readonly keyVersion: number;
  readonly createdAt: number;
}

export interface BankRecord extends Participant {
  /** Net digital tenge issued to this bank (issued minus redeemed). */
  readonly issued: bigint;
  readonly issuanceCap: bigint | null;
  readonly wallets: number;
  readonly asset: string;
}

export interface Wallet {
  readonly id: string;
  readonly bank: string;
  readonly kind: WalletKind;
  readonly tier: number;
  readonly status: WalletStatus;
  readonly publicKey: string;
  readonly keyVersion: number;
  readonly lastSequence: number;
  /** UTC day (days since the epoch) that `spentToday` counts. */
  readonly day: number;
  readonly spentToday: bigint;
  readonly convertIncoming: boolean;
  readonly createdAt: number;
  readonly closedAt: number | null;
}

export interface Payment {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  readonly sequence: number;
  readonly expiresAt: number;
  readonly reference: string;
  readonly request: string;
  readonly refundOf: string;
  /** Credited to the payee's wallet. */
  readonly toWallet: bigint;
  /** Sent on to the payee's bank account (over the holding limit, or converted). */
  readonly toBankAccount: bigint;
  readonly refunded: bigint;
  readonly timestamp: number;
}

export interface PaymentRequest {
  readonly id: string;
  readonly wallet: string;
  readonly amount: bigint;
  readonly reference: string;
  readonly expiresAt: number;
  readonly status: 'open' | 'paid';
  readonly paidBy: string | null;
  readonly createdAt: number;
}

export const eventTypes = [
  'bank.onboarded',
  'bank.suspended',
  'bank.reinstated',
  'reserves.topped_up',
  'issuance',
  'redemption',
  'wallet.opened',
  'wallet.frozen',
  'wallet.unfrozen',
  'wallet.closed',
  'wallet.key_rotated',
  'wallet.key_recovered',
  'wallet.tier_changed',
  'wallet.conversion_changed',
  'wallet.funded',
  'wallet.defunded',
  'account.credited',
  'account.debited',
  'payment.sent',
  'payment.received',
  'payment_request.created',
  'payment_request.paid',
] as const;
export type EventType = (typeof eventTypes)[number];

/** An event for one bank, numbered from 1 per bank in commit order. */
export interface PlatformEvent {
  readonly bank: string;
  readonly seq: number;
  readonly type: EventType;
  readonly at: number;
  readonly wallet: string | null;
  readonly payment: string | null;
  readonly counterparty: string | null;
  readonly amount: bigint | null;
  /** Part of a received payment sent on to the holder's bank account. */
  readonly toBankAccount: bigint | null;
  readonly detail: string | null;
}
