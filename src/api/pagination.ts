/**
 * Cursor pagination shared by the list endpoints: `limit` (1 to pageLimitMax, default
 * pageLimitDefault) and an opaque `cursor` taken from the previous page's `nextCursor`.
 */
import type { FastifyReply } from 'fastify';
import type { Transfer } from '../ledger/types.ts';
import { pageLimitDefault, pageLimitMax } from '../limits.ts';
import { sendProblem } from './problem.ts';
import { transferJson } from './views.ts';

export interface Page {
  readonly limit: number;
  readonly cursor: number | null;
}

/** Parses a page request, or names what is wrong with it. */
export function parsePage(query: { readonly limit?: string; readonly cursor?: string }): Page | 'limit' | 'cursor' {
  const limit = query.limit === undefined ? pageLimitDefault : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > pageLimitMax) return 'limit';
  const cursor = query.cursor === undefined ? null : Number(query.cursor);
  if (cursor !== null && (!Number.isSafeInteger(cursor) || cursor < 1)) return 'cursor';
  return { limit, cursor };
}

export function sendPageProblem(reply: FastifyReply, what: 'limit' | 'cursor'): FastifyReply {
  if (what === 'cursor') return sendProblem(reply, 'cursor_invalid');
  return sendProblem(reply, 'validation_failed', { errors: [{ path: 'querystring/limit', message: `must be 1 to ${pageLimitMax}` }] });
}

/** A page of transfers fetched with one extra item, which only tells whether there is more. */
export function transferPage(transfers: readonly Transfer[], limit: number) {
  const more = transfers.length > limit;
  const shown = more ? transfers.slice(0, limit) : transfers;
  return { transfers: shown.map(transferJson), nextCursor: more ? String(shown[shown.length - 1]!.sequence) : null };
}
