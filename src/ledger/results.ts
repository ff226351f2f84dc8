/**
 * The command results the core and its extension hand out. They are frozen and shared (one object
 * per code), so a batch of 8190 rejections allocates nothing.
 */
import type { ResultCode } from './result-codes.ts';
import type { CommandResult } from './types.ts';

export const okNew: CommandResult = Object.freeze({ ok: true, existed: false });
export const okExisted: CommandResult = Object.freeze({ ok: true, existed: true });

const rejections = new Map<ResultCode, CommandResult>();

export function reject(code: ResultCode): CommandResult {
  let result = rejections.get(code);
  if (result === undefined) {
    result = Object.freeze({ ok: false, code });
    rejections.set(code, result);
  }
  return result;
}
