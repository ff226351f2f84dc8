/**
 * Syntax of client-chosen identifiers and asset codes. The same rules are used by the HTTP schemas
 * and by the core, which re-checks everything it is given.
 */
import { assetCodeLengthMax, idLengthMax } from '../limits.ts';

const idPattern = /^[A-Za-z0-9._:-]+$/;
const assetCodePattern = /^[A-Z][A-Z0-9_]+$/;

export const idPatternSource = '^[A-Za-z0-9._:-]{1,64}$';
export const assetCodePatternSource = '^[A-Z][A-Z0-9_]{1,23}$';

/** A character loop rather than `idPattern.test`: this runs once per transfer on the hot path. */
export function isValidId(value: string): boolean {
  const length = value.length;
  if (length < 1 || length > idLengthMax) return false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    // 0-9 and ':' (48-58), A-Z (65-90), a-z (97-122), '-' (45), '.' (46), '_' (95)
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95)) return false;
  }
  return true;
}

/** The same rule as a regular expression, kept to cross-check the loop in tests. */
export function isValidIdByPattern(value: string): boolean {
  return value.length >= 1 && value.length <= idLengthMax && idPattern.test(value);
}

export function isValidAssetCode(value: string): boolean {
  return value.length >= 2 && value.length <= assetCodeLengthMax && assetCodePattern.test(value);
}
