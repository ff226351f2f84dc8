// Proves the journal codec round-trips every encodable command exactly and that decoding arbitrary or damaged bytes either succeeds or throws JournalCodecError, never anything else and never without bound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommands, encodeCommands, JournalCodecError } from './journal-codec.ts';
import type { AccountStatus, Command } from './types.ts';

const i64Min = -(2n ** 63n);
const i64Max = 2n ** 63n - 1n;

// Strings are code-point based ('binary' units never produce lone surrogates), so they are
// well-formed UTF-16 and survive UTF-8 exactly. Short ones keep the runs fast; a few long ones
// exercise the u16 length prefix beyond one byte.
const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 8 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 250, maxLength: 600 }), weight: 1 },
);
const linked = fc.constantFrom<boolean | undefined>(true, false, undefined);
const i64 = fc.bigInt({ min: i64Min, max: i64Max });

const createAsset = fc.record({ kind: fc.constant('create_asset' as const), code: text, scale: fc.integer({ min: 0, max: 255 }), linked });
const createAccount = fc.record({
  kind: fc.constant('create_account' as const),
  id: text,
  asset: text,
  allowNegative: fc.boolean(),
  maxBalance: fc.option(i64, { nil: null }),
  linked,
});
const createTransfer = fc.record({
  kind: fc.constant('create_transfer' as const),
  id: text,
  debit: text,
  credit: text,
  amount: i64,
  pending: fc.boolean(),
  timeoutSeconds: fc.integer({ min: 0, max: 0xffffffff }),
  code: fc.integer({ min: 0, max: 0xffff }),
  reference: text,
  linked,
});
const postPending = fc.record({ kind: fc.constant('post_pending' as const), pendingId: text, amount: fc.option(i64, { nil: null }), linked });
const voidPending = fc.record({ kind: fc.constant('void_pending' as const), pendingId: text, linked });
const setAccountStatus = fc.record({
  kind: fc.constant('set_account_status' as const),
  id: text,
  status: fc.constantFrom<AccountStatus>('active', 'frozen', 'closed'),
  linked,
});

const command: fc.Arbitrary<Command> = fc.oneof(createAsset, createAccount, createTransfer, postPending, voidPending, setAccountStatus);
const commands = fc.array(command, { maxLength: 20 });

/** What decoding gives back: the same command with `linked` always a boolean. */
function normalised(list: readonly Command[]): Command[] {
  return list.map((c) => ({ ...c, linked: c.linked === true }));
}

/** Decodes, asserting that the only possible failure is JournalCodecError and that it terminates quickly. */
function decodeOrCodecError(bytes: Uint8Array): Command[] | JournalCodecError {
  const started = performance.now();
  try {
    const decoded = decodeCommands(bytes);
    // The smallest record (void_pending with an empty id) takes 4 bytes: output is bounded by input.
    expect(decoded.length).toBeLessThanOrEqual(Math.floor(bytes.length / 4));
    return decoded;
  } catch (error) {
    if (error instanceof JournalCodecError) return error;
    throw new Error(`decodeCommands threw ${String(error)} (not JournalCodecError) for bytes ${Buffer.from(bytes).toString('hex')}`);
  } finally {
    expect(performance.now() - started).toBeLessThan(1000);
  }
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xfe, 0xff) }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const bytes = Buffer.from(input);
  if (bytes.length === 0) return m.kind === 'insert' ? new Uint8Array(m.bytes) : new Uint8Array(0);
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'flip':
      bytes[at] = bytes[at]! ^ (1 << m.bit);
      return new Uint8Array(bytes);
    case 'set':
      bytes[at] = m.value;
      return new Uint8Array(bytes);
    case 'truncate':
      return new Uint8Array(bytes.subarray(0, at));
    case 'insert':
      return new Uint8Array(Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]));
    case 'delete':
      return new Uint8Array(Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]));
  }
}

describe('journal codec round trip', () => {
  it('decode(encode(commands)) equals the commands, with linked normalised to a boolean', () => {
    fc.assert(
      fc.property(commands, (list) => {
        const bytes = encodeCommands(list);
        expect(decodeCommands(bytes)).toEqual(normalised(list));
      }),
      { numRuns: 500 },
    );
  });

  it('is canonical: encoding the decoded commands gives the same bytes', () => {
    fc.assert(
      fc.property(commands, (list) => {
        const bytes = encodeCommands(list);
        expect(Buffer.from(encodeCommands(decodeCommands(bytes))).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('concatenated bodies decode to the concatenated command lists', () => {
    fc.assert(
      fc.property(fc.array(commands, { maxLength: 5 }), (bodies) => {
        const joined = Buffer.concat(bodies.map((list) => encodeCommands(list)));
        expect(decodeCommands(new Uint8Array(joined))).toEqual(normalised(bodies.flat()));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes a view into a larger buffer using only the viewed bytes', () => {
    fc.assert(
      fc.property(commands, fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), (list, before, after) => {
        const body = encodeCommands(list);
        const backing = Buffer.concat([before, body, after]);
        const view = new Uint8Array(backing.buffer, backing.byteOffset + before.length, body.length);
        expect(decodeCommands(view)).toEqual(normalised(list));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips the extremes of every fixed-width field', () => {
    const extremes: Command[] = [
      { kind: 'create_asset', code: '', scale: 255 },
      { kind: 'create_account', id: 'a', asset: 'B', allowNegative: true, maxBalance: i64Min, linked: true },
      { kind: 'create_account', id: 'a', asset: 'B', allowNegative: false, maxBalance: i64Max },
      { kind: 'create_account', id: 'a', asset: 'B', allowNegative: false, maxBalance: 0n },
      { kind: 'create_transfer', id: 'x'.repeat(0xffff), debit: '', credit: '₸😀', amount: i64Max, pending: true, timeoutSeconds: 0xffffffff, code: 0xffff, reference: '', linked: true },
      { kind: 'create_transfer', id: 't', debit: 'd', credit: 'c', amount: i64Min, pending: false, timeoutSeconds: 0, code: 0, reference: 'r' },
      { kind: 'post_pending', pendingId: 'p', amount: null },
      { kind: 'post_pending', pendingId: 'p', amount: 0n, linked: false },
      { kind: 'void_pending', pendingId: 'p', linked: true },
      { kind: 'set_account_status', id: 's', status: 'closed' },
    ];
    expect(decodeCommands(encodeCommands(extremes))).toEqual(normalised(extremes));
  });

  it('refuses to encode a string longer than 65535 UTF-8 bytes with JournalCodecError', () => {
    expect(() => encodeCommands([{ kind: 'void_pending', pendingId: 'x'.repeat(0x10000) }])).toThrow(JournalCodecError);
    expect(() => encodeCommands([{ kind: 'void_pending', pendingId: '₸'.repeat(21846) }])).toThrow(JournalCodecError);
  });

  it('decodes the empty body to no commands', () => {
    expect(decodeCommands(new Uint8Array(0))).toEqual([]);
  });
});

describe('journal codec on damaged input', () => {
  it('arbitrary bytes decode or throw JournalCodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeOrCodecError(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary bytes behind a valid record tag decode or throw JournalCodecError', () => {
    // Uniformly random bytes mostly fail at the first tag; starting with a real tag reaches the field readers.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 120 }), (tag, rest) => {
        decodeOrCodecError(new Uint8Array([tag, ...rest]));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid encodings (bit flips, truncations, insertions, deletions) decode or throw JournalCodecError', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (list, mutations) => {
        let bytes = encodeCommands(list);
        for (const m of mutations) bytes = mutate(bytes, m);
        const decoded = decodeOrCodecError(bytes);
        if (!(decoded instanceof JournalCodecError)) {
          // Whatever decodes is a list of well-formed commands that the encoder accepts again and
          // that is stable under a second round trip.
          let again: Command[];
          try {
            again = decodeCommands(encodeCommands(decoded));
          } catch (error) {
            // Invalid UTF-8 decodes to U+FFFD, which can make a string too long to re-encode.
            expect(error).toBeInstanceOf(JournalCodecError);
            return;
          }
          expect(again).toEqual(decoded);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every truncation of a valid encoding decodes to a prefix or throws JournalCodecError', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), (list) => {
        const bytes = encodeCommands(list);
        const expected = normalised(list);
        for (let end = 0; end < bytes.length; end++) {
          const decoded = decodeOrCodecError(bytes.subarray(0, end));
          if (!(decoded instanceof JournalCodecError)) expect(decoded).toEqual(expected.slice(0, decoded.length));
        }
      }),
      { numRuns: 100 },
    );
  });

  it.each([
    ['an unknown tag', [0]],
    ['tag 7', [7]],
    ['a truncated string length', [1, 0]],
    ['a string longer than the input', [1, 0, 5, 65]],
    ['unknown create_asset flags', [1, 0, 2, 75, 90, 2, 1]],
    ['unknown create_transfer flags', [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['an account status beyond closed', [6, 0, 1, 97, 3, 0]],
    ['a missing maxBalance', [2, 0, 1, 97, 0, 1, 66, 4]],
  ])('rejects %s with JournalCodecError', (_name, bytes) => {
    expect(() => decodeCommands(new Uint8Array(bytes))).toThrow(JournalCodecError);
  });
});
