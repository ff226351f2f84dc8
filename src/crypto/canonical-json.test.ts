// Proves canonical JSON follows RFC 8785 (its number table, sorting and escaping examples), is
// idempotent and independent of key order, and that every value JCS cannot represent faithfully
// is refused with a typed error naming its path instead of being serialised ambiguously.
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, canonicalJsonBytes, canonicalJsonDepthMax, type CanonicalJsonErrorCode } from './canonical-json.ts';

function ieee754(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

function refusal(value: unknown): [CanonicalJsonErrorCode, string] | 'accepted' {
  try {
    canonicalJson(value);
    return 'accepted';
  } catch (error) {
    if (error instanceof CanonicalJsonError) return [error.code, error.path];
    throw error;
  }
}

/** RFC 8785 Appendix B: IEEE 754 doubles and their canonical text (NaN and Infinity are errors). */
const appendixB: readonly [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

describe('RFC 8785 examples', () => {
  it.each(appendixB)('Appendix B: %s serialises as %s (the library underneath, full double range)', (hex, text) => {
    expect(canonicalize(ieee754(hex))).toBe(text);
  });

  it('the wrapper gives the same text for every Appendix B number below 2^53 and refuses the others', () => {
    for (const [hex, text] of appendixB) {
      const value = ieee754(hex);
      if (Math.abs(value) < 2 ** 53) expect(canonicalJson(value)).toBe(text);
      else expect(refusal(value)).toEqual(['number_unsafe_integer', '']);
    }
    expect(refusal(ieee754('7fffffffffffffff'))).toEqual(['number_not_finite', '']);
    expect(refusal(ieee754('7ff0000000000000'))).toEqual(['number_not_finite', '']);
  });

  it('serialises the numbers of the brief as ES does: -0, 4.5, 0.002, 1e-7 (and refuses 1e21, an integer beyond 2^53)', () => {
    expect(canonicalJson([-0, 4.5, 4.5e0, 0.002, 2e-3, 1e-7, 0.0000001, 100, 1e2, 123456789012345, 0.1 + 0.2])).toBe(
      '[0,4.5,4.5,0.002,0.002,1e-7,1e-7,100,100,123456789012345,0.30000000000000004]',
    );
    expect(canonicalize(1e21)).toBe('1e+21');
    expect(refusal(1e21)).toEqual(['number_unsafe_integer', '']);
  });

  it('§3.2.2: the example of the whole transformation (through the library, as it holds 1E30)', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalize(JSON.parse(input))).toBe(expected);
  });

  it('§3.2.2 without its one number beyond 2^53, through the wrapper, down to the UTF-8 bytes', () => {
    const input = String.raw`{"numbers":[333333333.33333329,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
    const bytes = canonicalJsonBytes(JSON.parse(input));
    // "€" is the three UTF-8 bytes e2 82 ac, not an escape.
    expect(Buffer.from(bytes).toString('hex')).toContain(Buffer.from('"string":"', 'utf8').toString('hex') + 'e282ac24');
    expect(new TextDecoder().decode(bytes)).toBe(expected);
  });

  it('§3.2.3: properties sorted by UTF-16 code units, non-ASCII and surrogate pairs included', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('sorts by code units, not code points: U+1F600 (D83D DE00) sorts before U+FB33, and "a" before "aa" before "b"', () => {
    expect(canonicalJson({ '\ufb33': 1, '\u{1f600}': 2, b: 3, aa: 4, a: 5, B: 6, '': 7 })).toBe('{"":7,"B":6,"a":5,"aa":4,"b":3,"\u{1f600}":2,"\ufb33":1}');
  });

  it('§3.2.2.2: escapes only ", \\ and controls; short forms for \\b \\t \\n \\f \\r, lower-case \\u00xx for the rest', () => {
    let controls = '';
    for (let code = 0; code < 0x20; code++) controls += String.fromCharCode(code);
    expect(canonicalJson(controls)).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"',
    );
    expect(canonicalJson('"\\/\u007f\u2028\u2029é€\u{1f600}')).toBe('"\\"\\\\/\u007f\u2028\u2029é€\u{1f600}"');
  });

  it('writes literals, empty containers and nesting without whitespace', () => {
    expect(canonicalJson({ b: [], a: {}, c: [null, true, false, [{}]] })).toBe('{"a":{},"b":[],"c":[null,true,false,[{}]]}');
  });
});

/** JSON values the wrapper accepts: numbers below 2^53, well-formed strings and keys. */
const jsonValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** The same value with every object's keys inserted in a different (seeded) order. */
function reorderKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((item) => reorderKeys(item, random));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([key, item]) => [key, reorderKeys(item, random)] as const);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries);
}

describe('properties', () => {
  it('is idempotent: the canonical text parsed and canonicalised again is the same text', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('does not depend on key order, nor on the whitespace of the JSON text a value was parsed from', () => {
    fc.assert(
      fc.property(jsonValue, fc.integer(), (value, seed) => {
        let state = seed >>> 0;
        const random = (): number => {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          return state / 2 ** 32;
        };
        const text = canonicalJson(value);
        expect(canonicalJson(reorderKeys(value, random))).toBe(text);
        expect(canonicalJson(JSON.parse(JSON.stringify(value, null, 2)))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('is a faithful JSON text: it parses back to the value (with -0 as 0)', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(JSON.parse(canonicalJson(value))).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });
});

class Money {
  readonly amount = '1';
}

describe('what JCS cannot represent faithfully is refused, with the path', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  const withGetter = Object.defineProperty({}, 'amount', { get: () => '1', enumerable: true });
  const withHidden = Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false });
  const withSymbol = { a: 1, [Symbol('s')]: 2 };
  const sparse = [1, , 3];
  const arrayWithExtra = Object.assign([1, 2], { extra: true });
  let deep: unknown = 1;
  for (let i = 0; i < canonicalJsonDepthMax + 1; i++) deep = [deep];

  const cases: [string, unknown, CanonicalJsonErrorCode, string][] = [
    ['NaN', { a: NaN }, 'number_not_finite', '/a'],
    ['Infinity', [Infinity], 'number_not_finite', '/0'],
    ['-Infinity', -Infinity, 'number_not_finite', ''],
    ['2^53', { sequence: 2 ** 53 }, 'number_unsafe_integer', '/sequence'],
    ['-(2^53)', -(2 ** 53), 'number_unsafe_integer', ''],
    ['9007199254740993 as parsed', JSON.parse('{"n":9007199254740993}'), 'number_unsafe_integer', '/n'],
    ['1e21', 1e21, 'number_unsafe_integer', ''],
    ['1e300', { a: [{ b: 1e300 }] }, 'number_unsafe_integer', '/a/0/b'],
    ['lone high surrogate', { memo: 'a\ud800b' }, 'string_lone_surrogate', '/memo'],
    ['lone low surrogate', ['\udc00'], 'string_lone_surrogate', '/0'],
    ['swapped surrogate pair', '\ude00\ud83d', 'string_lone_surrogate', ''],
    ['lone surrogate in a key', { 'k\ud800': 1 }, 'string_lone_surrogate', '/k\ud800'],
    ['undefined', undefined, 'value_unsupported', ''],
    ['undefined property', { a: 1, b: undefined }, 'value_unsupported', '/b'],
    ['undefined in an array', [1, undefined], 'value_unsupported', '/1'],
    ['bigint', { amount: 10n }, 'value_unsupported', '/amount'],
    ['function', { f: () => 1 }, 'value_unsupported', '/f'],
    ['symbol', [Symbol('s')], 'value_unsupported', '/0'],
    ['toJSON method', { toJSON: () => 'x' }, 'value_unsupported', '/toJSON'],
    ['Date', { at: new Date(0) }, 'object_not_plain', '/at'],
    ['Map', new Map([['a', 1]]), 'object_not_plain', ''],
    ['Set', new Set([1]), 'object_not_plain', ''],
    ['class instance', { money: new Money() }, 'object_not_plain', '/money'],
    ['boxed number', new Number(1), 'object_not_plain', ''],
    ['boxed string', { s: new String('a') }, 'object_not_plain', '/s'],
    ['Uint8Array', new Uint8Array(2), 'object_not_plain', ''],
    ['getter', withGetter, 'object_not_plain', '/amount'],
    ['non-enumerable property', withHidden, 'object_not_plain', '/hidden'],
    ['symbol key', withSymbol, 'object_not_plain', ''],
    ['sparse array', { list: sparse }, 'object_not_plain', '/list'],
    ['array with an extra property', arrayWithExtra, 'object_not_plain', ''],
    ['cycle through objects', cyclic, 'cycle', '/self/back'],
    ['cycle through arrays', cyclicArray, 'cycle', '/1/0'],
    [`nesting deeper than ${canonicalJsonDepthMax}`, deep, 'depth_exceeded', '/0'.repeat(canonicalJsonDepthMax)],
    ['a path with "/" and "~" escaped per RFC 6901', { 'a/b': { 'c~d': NaN } }, 'number_not_finite', '/a~1b/c~0d'],
  ];

  it.each(cases)('%s', (_name, value, code, path) => {
    expect(refusal(value)).toEqual([code, path]);
  });

  it('accepts the edges of what it allows', () => {
    let deepest: unknown = 1;
    for (let i = 0; i < canonicalJsonDepthMax; i++) deepest = [deepest];
    expect(canonicalJson(deepest)).toBe('['.repeat(canonicalJsonDepthMax) + '1' + ']'.repeat(canonicalJsonDepthMax));
    expect(canonicalJson([2 ** 53 - 1, -(2 ** 53 - 1)])).toBe('[9007199254740991,-9007199254740991]');
    const nullPrototype = Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: 2 });
    expect(canonicalJson(nullPrototype)).toBe('{"a":2,"b":1}');
    // "__proto__" from JSON.parse is an ordinary own key, and is kept.
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":0}'))).toBe('{"__proto__":{"x":1},"a":0}');
    // A shared (non-cyclic) sub-object is fine.
    const shared = { v: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"v":1},"b":[{"v":1}]}');
    expect(canonicalJson('\ud83d\ude00')).toBe('"\ud83d\ude00"');
  });
});
