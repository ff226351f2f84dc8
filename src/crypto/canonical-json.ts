/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte string a JSON value is signed as.
 * Serialisation is delegated to `canonicalize`, the reference implementation by the RFC's
 * author (ES number formatting, keys sorted by UTF-16 code units, JSON.stringify string escaping).
 *
 * This wrapper first checks that the value means exactly one JSON text, and throws a
 * `CanonicalJsonError` naming the offending path (a JSON Pointer) otherwise, so that two parties
 * can never sign or verify different bytes for what they believe is the same value. Refused:
 *
 * - numbers that are not finite (JSON has no NaN or Infinity);
 * - numbers of magnitude 2^53 or more: beyond Number.MAX_SAFE_INTEGER a JSON number no longer
 *   names one integer (9007199254740993 parses as 9007199254740992), so a sender with a 64-bit
 *   integer and a receiver with a double would sign different values. Large integers belong in
 *   strings, as amounts already are. (Fractions below 2^53 are accepted and serialised per the
 *   RFC; -0 is serialised as 0, as the RFC requires.)
 * - strings and keys containing a lone UTF-16 surrogate (not encodable as UTF-8);
 * - `undefined`, functions, symbols and bigints (JSON.stringify would drop, null or throw them);
 * - anything but plain objects and arrays: class instances, Dates, Maps, boxed primitives, objects
 *   with getters, symbol keys or non-enumerable properties, sparse arrays or arrays with extra
 *   properties — each would otherwise be serialised through toJSON or silently lose data;
 * - cycles, and nesting deeper than `canonicalJsonDepthMax`.
 */
import { canonicalJsonDepthMax } from '../limits.ts';
import canonicalize from 'canonicalize';

const utf8 = new TextEncoder();

/** Deepest nesting of objects and arrays accepted (the top-level value is depth 1). */
export { canonicalJsonDepthMax };

export type CanonicalJsonErrorCode =
  | 'number_not_finite'
  | 'number_unsafe_integer'
  | 'string_lone_surrogate'
  | 'value_unsupported'
  | 'object_not_plain'
  | 'cycle'
  | 'depth_exceeded';

/** Raised for a value that RFC 8785 cannot represent faithfully. `path` is a JSON Pointer. */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  readonly code: CanonicalJsonErrorCode;
  readonly path: string;

  constructor(code: CanonicalJsonErrorCode, path: string, message: string) {
    super(`${path === '' ? 'value' : path}: ${message}`);
    this.code = code;
    this.path = path;
  }
}

/** RFC 6901 escaping of one reference token. */
function pointer(parent: string, token: string | number): string {
  return `${parent}/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function checkValue(value: unknown, path: string, depth: number, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'boolean':
      return;
    case 'string':
      if (!value.isWellFormed()) throw new CanonicalJsonError('string_lone_surrogate', path, 'string contains a lone UTF-16 surrogate');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('number_not_finite', path, `${value} is not a JSON number`);
      if (Math.abs(value) > Number.MAX_SAFE_INTEGER) {
        throw new CanonicalJsonError('number_unsafe_integer', path, `${value} is beyond ±(2^53 - 1): send it as a string`);
      }
      return;
    case 'object':
      if (value === null) return;
      checkContainer(value, path, depth, ancestors);
      return;
    default:
      throw new CanonicalJsonError('value_unsupported', path, `${typeof value} is not a JSON value`);
  }
}

function checkContainer(value: object, path: string, depth: number, ancestors: Set<object>): void {
  if (depth > canonicalJsonDepthMax) throw new CanonicalJsonError('depth_exceeded', path, `nested deeper than ${canonicalJsonDepthMax}`);
  if (ancestors.has(value)) throw new CanonicalJsonError('cycle', path, 'value contains itself');
  const prototype: unknown = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value);
  if (isArray ? prototype !== Array.prototype : prototype !== Object.prototype && prototype !== null) {
    throw new CanonicalJsonError('object_not_plain', path, 'only plain objects and arrays are JSON');
  }
  ancestors.add(value);
  const keys = Reflect.ownKeys(value);
  if (isArray) {
    // A dense array has exactly its indices and `length` as own keys.
    const length = (value as unknown[]).length;
    if (keys.length !== length + 1) throw new CanonicalJsonError('object_not_plain', path, 'sparse array or array with extra properties');
  }
  for (const key of keys) {
    if (typeof key === 'symbol') throw new CanonicalJsonError('object_not_plain', path, 'object has a symbol key');
    if (isArray && key === 'length') continue;
    const keyPath = pointer(path, key);
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor) || !descriptor.enumerable) {
      throw new CanonicalJsonError('object_not_plain', keyPath, 'property is an accessor or not enumerable');
    }
    if (!key.isWellFormed()) throw new CanonicalJsonError('string_lone_surrogate', keyPath, 'key contains a lone UTF-16 surrogate');
    checkValue(descriptor.value, keyPath, depth + 1, ancestors);
  }
  ancestors.delete(value);
}

/** Throws `CanonicalJsonError` unless `value` has exactly one RFC 8785 serialisation. */
export function assertCanonicalizable(value: unknown): void {
  checkValue(value, '', 1, new Set());
}

/** The RFC 8785 canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  assertCanonicalizable(value);
  const text = canonicalize(value);
  if (typeof text !== 'string') throw new Error('canonicalize returned no text for a checked value');
  return text;
}

/** The UTF-8 bytes of the RFC 8785 canonical JSON text of `value`: what gets signed. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return utf8.encode(canonicalJson(value));
}
