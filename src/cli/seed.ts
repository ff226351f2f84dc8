/**
 * `tengri start --seed pilot`: a demonstration network modelled on the 2023 digital tenge pilot —
 * the central bank (genesis), four banks and Kazpost, the tax authority and a city
 * administration, merchants including school canteens, and a few hundred wallets with money in
 * them and some payments between them. It is created through the same platform commands the API
 * sends, so it is journaled, replayed and verified like everything else.
 *
 * Demonstration only: the wallets' private keys are derived from their ids (so the web app and the
 * tests can sign for them) and everyone's credentials are written to
 * `<data>/pilot-credentials.json` (mode 0600). Never seed a ledger that holds real money.
 */
import { createHash } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { encodeBase64url } from '../crypto/base64url.ts';
import { keyPairFromSeed } from '../crypto/ed25519.ts';
import type { Sequencer } from '../engine/sequencer.ts';
import { newApiKey } from '../api/auth.ts';
import type { Platform } from '../platform/platform.ts';
import type { ParticipantRole, PlatformCommand, WalletKind } from '../platform/types.ts';

const kzt = (tenge: number): bigint => BigInt(tenge) * 100n;

export const pilotBanks = [
  { id: 'halyk', name: 'Halyk Bank', bic: 'HSBKKZKX' },
  { id: 'kaspi', name: 'Kaspi Bank', bic: 'CASPKZKA' },
  { id: 'freedom', name: 'Freedom Bank Kazakhstan', bic: 'KSNVKZKA' },
  { id: 'bereke', name: 'Bereke Bank', bic: 'BRKEKZKA' },
  { id: 'kazpost', name: 'Kazpost', bic: 'KPSTKZKA' },
] as const;

/** Participants that act for a wallet: [id, role, name, bank, convertIncoming]. */
const pilotActors: readonly (readonly [string, ParticipantRole & ('merchant' | 'government'), string, string, boolean])[] = [
  ['tax-authority', 'government', 'State Revenue Committee', 'halyk', false],
  ['astana-akimat', 'government', 'Astana city administration', 'kaspi', false],
  ['canteen-school-12', 'merchant', 'School No. 12 canteen', 'halyk', false],
  ['canteen-school-47', 'merchant', 'School No. 47 canteen', 'kaspi', false],
  ['canteen-school-88', 'merchant', 'School-lyceum No. 88 canteen', 'kazpost', false],
  ['magnum', 'merchant', 'Magnum supermarket', 'kaspi', true],
  ['small-coffee', 'merchant', 'Small coffee house', 'freedom', false],
  ['astana-pharmacy', 'merchant', 'Astana pharmacy', 'bereke', false],
  ['kitap-bookshop', 'merchant', 'Kitap bookshop', 'halyk', false],
  ['onay-transit', 'merchant', 'Onay city transit', 'kazpost', true],
];

export const pilotIndividuals = 300;

/** The demonstration private key of a pilot wallet: derived from its id, so anyone can sign for it. */
export function pilotWalletSeed(walletId: string): Uint8Array {
  return createHash('sha256').update(`tengri-pilot-demo-key:${walletId}`).digest();
}

export interface SeededPilot {
  readonly credentialsPath: string;
  readonly counts: { readonly banks: number; readonly participants: number; readonly wallets: number; readonly payments: number };
}

/** Seeds the pilot network, or returns null when the ledger already has banks. */
export async function seedPilot(sequencer: Sequencer, platform: Platform, credentialsPath: string): Promise<SeededPilot | null> {
  if (platform.listBanks().length > 0) return null;
  const credentials: {
    warning: string;
    banks: Record<string, { apiKey: string; bic: string }>;
    participants: Record<string, { role: string; apiKey: string; wallet: string; bank: string }>;
    wallets: { id: string; bank: string; kind: WalletKind; tier: number; publicKey: string; privateKey: string }[];
  } = {
    warning: 'Demonstration network: these keys are public knowledge. Never use it for real money.',
    banks: {},
    participants: {},
    wallets: [],
  };
  const walletKey = (id: string) => {
    const pair = keyPairFromSeed(pilotWalletSeed(id));
    return { publicKey: encodeBase64url(pair.publicKey), privateKey: encodeBase64url(pair.seed) };
  };

  // Banks, their reserves and their first issuance.
  const setup: PlatformCommand[] = [];
  for (const bank of pilotBanks) {
    const { apiKey, keyHash } = newApiKey();
    credentials.banks[bank.id] = { apiKey, bic: bank.bic };
    setup.push({ kind: 'x.register_participant', id: bank.id, role: 'bank', name: bank.name, bic: bank.bic, wallet: '', keyHash });
    setup.push({ kind: 'x.top_up_reserves', id: `pilot-reserves-${bank.id}`, bank: bank.id, amount: kzt(2_000_000_000) });
    setup.push({ kind: 'x.issue', id: `pilot-issue-${bank.id}`, bank: bank.id, amount: kzt(500_000_000) });
  }

  // Government bodies and merchants: a wallet each, and a participant acting for it.
  const wallets: PlatformCommand[] = [];
  const actors: PlatformCommand[] = [];
  for (const [id, role, name, bank, convertIncoming] of pilotActors) {
    const walletId = `w_${id.replaceAll('-', '_')}`;
    const key = walletKey(walletId);
    credentials.wallets.push({ id: walletId, bank, kind: role, tier: 2, ...key });
    wallets.push({ kind: 'x.open_wallet', id: walletId, bank, publicKey: key.publicKey, walletKind: role, tier: 2, convertIncoming });
    const { apiKey, keyHash } = newApiKey();
    credentials.participants[id] = { role, apiKey, wallet: walletId, bank };
    actors.push({ kind: 'x.register_participant', id, role, name, bic: '', wallet: walletId, keyHash });
  }
  // Auditor and regulator.
  for (const [id, role, name] of [
    ['auditor', 'auditor', 'Internal audit of the central bank'],
    ['regulator', 'regulator', 'Financial market regulator'],
  ] as const) {
    const { apiKey, keyHash } = newApiKey();
    credentials.participants[id] = { role, apiKey, wallet: '', bank: '' };
    actors.push({ kind: 'x.register_participant', id, role, name, bic: '', wallet: '', keyHash });
  }

  // Individuals: spread over the banks, a mix of tiers, each funded from a bank account.
  const money: PlatformCommand[] = [];
  const individuals: string[] = [];
  for (let n = 1; n <= pilotIndividuals; n++) {
    const bank = pilotBanks[n % pilotBanks.length]!.id;
    const tier = n % 5 === 0 ? 0 : n % 5 <= 2 ? 1 : 2;
    const id = `w_pilot_${String(n).padStart(4, '0')}`;
    const key = walletKey(id);
    credentials.wallets.push({ id, bank, kind: 'individual', tier, ...key });
    wallets.push({ kind: 'x.open_wallet', id, bank, publicKey: key.publicKey, walletKind: 'individual', tier, convertIncoming: false });
    const salary = kzt(150_000 + ((n * 7919) % 350_000));
    const funded = kzt(10_000 + ((n * 104_729) % 40_000));
    money.push({ kind: 'x.credit_account', id: `pilot-salary-${n}`, wallet: id, amount: salary });
    money.push({ kind: 'x.fund', id: `pilot-fund-${n}`, wallet: id, amount: funded });
    individuals.push(id);
  }

  // Some everyday payments: people paying shops and each other.
  const shops = pilotActors.filter(([, role]) => role === 'merchant').map(([id]) => `w_${id.replaceAll('-', '_')}`);
  const payments: PlatformCommand[] = [];
  for (let n = 0; n < 200; n++) {
    const from = individuals[(n * 37) % individuals.length]!;
    const to = n % 3 === 0 ? individuals[(n * 53 + 1) % individuals.length]! : shops[n % shops.length]!;
    if (from === to) continue;
    payments.push({
      kind: 'x.pay',
      id: `pilot-payment-${n + 1}`,
      from,
      to,
      amount: kzt(200 + ((n * 613) % 4_800)),
      sequence: n + 1,
      expiresAt: 0,
      reference: n % 3 === 0 ? 'transfer' : 'purchase',
      request: '',
      refundOf: '',
      keyVersion: 1,
    });
  }

  // The credentials are written first and the whole network is one request, so one journal
  // batch: a crash leaves either no network (and a credentials file the next seeding replaces)
  // or all of it with its credentials.
  // A new file with mode 0600 from the start, then renamed over any leftover of an earlier attempt.
  const temporary = `${credentialsPath}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, credentialsPath);
  const commands = [...setup, ...wallets, ...actors, ...money, ...payments];
  let results;
  try {
    results = await sequencer.submit(commands, true);
  } catch (error) {
    rmSync(credentialsPath, { force: true });
    throw error;
  }
  const failed = results.findIndex((result) => !result.ok);
  if (failed >= 0) {
    const result = results[failed]!;
    throw new Error(`seeding failed at ${commands[failed]!.kind}: ${result.ok ? '' : result.code}`);
  }
  return {
    credentialsPath,
    counts: { banks: pilotBanks.length, participants: actors.length, wallets: wallets.length, payments: payments.length },
  };
}
