/**
 * Syntax of client-chosen identifiers and asset codes. The same rules are used by the HTTP schemas
 * and by the core, which re-checks everything it is given.
 */
import { assetCodeLengthMax, idLengthMax } from '../limits.ts';

const idPattern = /^[A-Za-z0-9._:-]+$/;
const assetCodePattern = /^[A-Z][A-Z0-9_]+$/;

export const idPatternSource = '^[A-Za-z0-9._:-]{1,64}$';
export const assetCodePatternSource = '^[A-Z][A-Z0-9_]{1,23}$';

export function isValidId(value: string): boolean {
  return value.length >= 1 && value.length <= idLengthMax && idPattern.test(value);
}

export function isValidAssetCode(value: string): boolean {
  return value.length >= 2 && value.length <= assetCodeLengthMax && assetCodePattern.test(value);
}
