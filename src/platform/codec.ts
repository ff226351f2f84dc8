/**
 * Journal encoding of platform commands: tags 16 and up in the ledger's journal (see
 * `ledger/journal-codec.ts` for the primitives). Fixed field order per tag; enumerations are
 * written as their index in the lists of `types.ts`, which are append-only.
 *
 *   16 set_tier_limits        u8 tier, i64 holdingMax, i64 perPaymentMax, i64 dailyMax
 *   17 register_participant   str id, u8 role, str name, str bic, str wallet, str keyHash
 *   18 set_participant_status str id, u8 status
 *   19 set_participant_key    str id, str keyHash
 *   20 set_issuance_cap       str bank, i64 cap
 *   21 top_up_reserves, 22 issue, 23 redeem             str id, str bank, i64 amount
 *   24 open_wallet            str id, str bank, str publicKey, u8 kind, u8 tier, u8 convertIncoming
 *   25 set_wallet_status      str id, u8 status, str reason, str actor
 *   26 set_wallet_key         str id, str publicKey, u8 reason
 *   27 set_wallet_tier        str id, u8 tier
 *   28 set_wallet_conversion  str id, u8 convertIncoming
 *   29 close_wallet           str id, str sweepTo
 *   30 fund, 31 defund, 32 credit_account, 33 debit_account   str id, str wallet, i64 amount
 *   34 pay                    str id, str from, str to, i64 amount, uint sequence, uint expiresAt,
 *                             str reference, str request, str refundOf, u32 keyVersion
 *   35 create_payment_request str id, str wallet, i64 amount, str reference, uint expiresAt
 */
import { JournalCodecError } from '../ledger/journal-codec.ts';
import type { ExtensionCommand, JournalReader, JournalWriter } from '../ledger/types.ts';
import { participantRoles, walletKinds, type PlatformCommand } from './types.ts';

const participantStatuses = ['active', 'suspended'] as const;
const walletStatuses = ['active', 'frozen'] as const;
const keyReasons = ['rotation', 'recovery'] as const;
const reserveKinds = ['x.top_up_reserves', 'x.issue', 'x.redeem'] as const;
const walletOperationKinds = ['x.fund', 'x.defund', 'x.credit_account', 'x.debit_account'] as const;

function index<T>(list: readonly T[], value: T): number {
  const found = list.indexOf(value);
  if (found < 0) throw new JournalCodecError(`cannot encode ${String(value)}`);
  return found;
}

function pick<T>(list: readonly T[], at: number): T {
  const value = list[at];
  if (value === undefined) throw new JournalCodecError(`unknown enumeration value ${at}`);
  return value;
}

function flag(value: number): boolean {
  if (value > 1) throw new JournalCodecError(`unknown flag value ${value}`);
  return value === 1;
}

export function encodePlatformCommand(command: ExtensionCommand, w: JournalWriter): void {
  const c = command as PlatformCommand;
  switch (c.kind) {
    case 'x.set_tier_limits':
      w.u8(16);
      w.u8(c.tier);
      w.i64(c.holdingMax);
      w.i64(c.perPaymentMax);
      w.i64(c.dailyMax);
      return;
    case 'x.register_participant':
      w.u8(17);
      w.str(c.id);
      w.u8(index(participantRoles, c.role));
      w.str(c.name);
      w.str(c.bic);
      w.str(c.wallet);
      w.str(c.keyHash);
      return;
    case 'x.set_participant_status':
      w.u8(18);
      w.str(c.id);
      w.u8(index(participantStatuses, c.status));
      return;
    case 'x.set_participant_key':
      w.u8(19);
      w.str(c.id);
      w.str(c.keyHash);
      return;
    case 'x.set_issuance_cap':
      w.u8(20);
      w.str(c.bank);
      w.i64(c.cap);
      return;
    case 'x.top_up_reserves':
    case 'x.issue':
    case 'x.redeem':
      w.u8(21 + index(reserveKinds, c.kind));
      w.str(c.id);
      w.str(c.bank);
      w.i64(c.amount);
      return;
    case 'x.open_wallet':
      w.u8(24);
      w.str(c.id);
      w.str(c.bank);
      w.str(c.publicKey);
      w.u8(index(walletKinds, c.walletKind));
      w.u8(c.tier);
      w.u8(c.convertIncoming ? 1 : 0);
      return;
    case 'x.set_wallet_status':
      w.u8(25);
      w.str(c.id);
      w.u8(index(walletStatuses, c.status));
      w.str(c.reason);
      w.str(c.actor);
      return;
    case 'x.set_wallet_key':
      w.u8(26);
      w.str(c.id);
      w.str(c.publicKey);
      w.u8(index(keyReasons, c.reason));
      return;
    case 'x.set_wallet_tier':
      w.u8(27);
      w.str(c.id);
      w.u8(c.tier);
      return;
    case 'x.set_wallet_conversion':
      w.u8(28);
      w.str(c.id);
      w.u8(c.convertIncoming ? 1 : 0);
      return;
    case 'x.close_wallet':
      w.u8(29);
      w.str(c.id);
      w.str(c.sweepTo);
      return;
    case 'x.fund':
    case 'x.defund':
    case 'x.credit_account':
    case 'x.debit_account':
      w.u8(30 + index(walletOperationKinds, c.kind));
      w.str(c.id);
      w.str(c.wallet);
      w.i64(c.amount);
      return;
    case 'x.pay':
      w.u8(34);
      w.str(c.id);
      w.str(c.from);
      w.str(c.to);
      w.i64(c.amount);
      w.uint(c.sequence);
      w.uint(c.expiresAt);
      w.str(c.reference);
      w.str(c.request);
      w.str(c.refundOf);
      w.u32(c.keyVersion);
      return;
    case 'x.create_payment_request':
      w.u8(35);
      w.str(c.id);
      w.str(c.wallet);
      w.i64(c.amount);
      w.str(c.reference);
      w.uint(c.expiresAt);
      return;
    default:
      throw new JournalCodecError(`unknown platform command ${(command as { kind: string }).kind}`);
  }
}

export function decodePlatformCommand(tag: number, r: JournalReader): PlatformCommand {
  switch (tag) {
    case 16:
      return { kind: 'x.set_tier_limits', tier: r.u8(), holdingMax: r.i64(), perPaymentMax: r.i64(), dailyMax: r.i64() };
    case 17:
      return {
        kind: 'x.register_participant',
        id: r.str(),
        role: pick(participantRoles, r.u8()),
        name: r.str(),
        bic: r.str(),
        wallet: r.str(),
        keyHash: r.str(),
      };
    case 18:
      return { kind: 'x.set_participant_status', id: r.str(), status: pick(participantStatuses, r.u8()) };
    case 19:
      return { kind: 'x.set_participant_key', id: r.str(), keyHash: r.str() };
    case 20:
      return { kind: 'x.set_issuance_cap', bank: r.str(), cap: r.i64() };
    case 21:
    case 22:
    case 23:
      return { kind: reserveKinds[tag - 21]!, id: r.str(), bank: r.str(), amount: r.i64() };
    case 24:
      return {
        kind: 'x.open_wallet',
        id: r.str(),
        bank: r.str(),
        publicKey: r.str(),
        walletKind: pick(walletKinds, r.u8()),
        tier: r.u8(),
        convertIncoming: flag(r.u8()),
      };
    case 25:
      return { kind: 'x.set_wallet_status', id: r.str(), status: pick(walletStatuses, r.u8()), reason: r.str(), actor: r.str() };
    case 26:
      return { kind: 'x.set_wallet_key', id: r.str(), publicKey: r.str(), reason: pick(keyReasons, r.u8()) };
    case 27:
      return { kind: 'x.set_wallet_tier', id: r.str(), tier: r.u8() };
    case 28:
      return { kind: 'x.set_wallet_conversion', id: r.str(), convertIncoming: flag(r.u8()) };
    case 29:
      return { kind: 'x.close_wallet', id: r.str(), sweepTo: r.str() };
    case 30:
    case 31:
    case 32:
    case 33:
      return { kind: walletOperationKinds[tag - 30]!, id: r.str(), wallet: r.str(), amount: r.i64() };
    case 34:
      return {
        kind: 'x.pay',
        id: r.str(),
        from: r.str(),
        to: r.str(),
        amount: r.i64(),
        sequence: r.uint(),
        expiresAt: r.uint(),
        reference: r.str(),
        request: r.str(),
        refundOf: r.str(),
        keyVersion: r.u32(),
      };
    case 35:
      return { kind: 'x.create_payment_request', id: r.str(), wallet: r.str(), amount: r.i64(), reference: r.str(), expiresAt: r.uint() };
    default:
      throw new JournalCodecError(`unknown record tag ${tag}`);
  }
}
