/**
 * Write forwarding: a replica (a Tengri process on a PostgreSQL ledger that does not hold the
 * writer lease) serves reads from its own copy of the ledger and passes every write on to the
 * leader over HTTP, answering with the leader's answer, byte for byte.
 *
 * - What is forwarded: every request that is not GET or HEAD, and reads that only the leader can
 *   answer (route config `leader: true`, e.g. the webhook's delivery state). The leader
 *   authenticates, validates and applies the request exactly as if it had come to it directly.
 * - Read your writes: the leader stamps the answer to every write with `Tengri-Journal-Sequence`,
 *   the journal batch that holds it (or a later one); the replica holds the answer until its own
 *   copy has replayed that batch (at most `catchUpMs`), so a read sent to the same replica
 *   afterwards sees the write.
 * - A request that already came through a replica (`Tengri-Forwarded-By`) is never forwarded again:
 *   when two processes disagree on who leads, the client gets `503 not_leader` rather than a loop.
 * - When the leader does not answer, the client gets `503 leader_unreachable`: the write may or may
 *   not have been applied, and retrying it with the same id is safe.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodyBytesMax } from '../limits.ts';
import { problem, sendProblem } from './problem.ts';

export interface LeaderLink {
  /** The leader's base URL (its `--advertise`), or null while it is not known. */
  leader(): string | null;
  /** This process's own advertised URL. */
  readonly self: string;
  /** Resolves true once this replica has replayed journal batch `sequence`, false after `timeoutMs`. */
  caughtUp(sequence: number, timeoutMs: number): Promise<boolean>;
}

export const forwardedByHeader = 'tengri-forwarded-by';
export const journalSequenceHeader = 'tengri-journal-sequence';
const forwardTimeoutMs = 30_000;
const catchUpMs = 5_000;

/** Request headers that belong to one connection, not to the request, and are not passed on. */
const hopByHop = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'expect']);
/** Response headers not copied back: framing is the replica's own, and fetch has decoded the body. */
const responseSkipped = new Set([...hopByHop, 'content-encoding', 'date']);

function readBody(raw: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        raw.removeAllListeners('data');
        raw.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    raw.on('end', () => resolve(Buffer.concat(chunks)));
    raw.on('error', reject);
  });
}

export function notLeader(request: FastifyRequest, reply: FastifyReply, leader: string | null, why: string): FastifyReply {
  const body = problem('not_leader', { instance: request.url.split('?')[0], detail: `${why} ${leader === null ? 'The leader is not known yet.' : `The leader is ${leader}.`}` });
  reply.header('retry-after', '1');
  if (leader !== null) reply.header('location', leader + request.url);
  return reply.code(503).type('application/problem+json; charset=utf-8').send({ ...body, leader });
}

export async function forwardToLeader(request: FastifyRequest, reply: FastifyReply, link: LeaderLink): Promise<FastifyReply> {
  const leader = link.leader();
  if (leader === null) return notLeader(request, reply, null, 'This process is a replica and cannot forward the request.');
  if (request.headers[forwardedByHeader] !== undefined) return notLeader(request, reply, leader, 'The request was forwarded by a replica to another replica.');
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  if (Number(request.headers['content-length'] ?? 0) > bodyBytesMax) return sendProblem(reply, 'body_too_large');
  const body = hasBody ? await readBody(request.raw, bodyBytesMax) : Buffer.alloc(0);
  if (body === null) return sendProblem(reply, 'body_too_large');
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || hopByHop.has(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  headers.set(forwardedByHeader, link.self);
  let response: Response;
  let answer: Buffer;
  try {
    response = await fetch(leader + request.url, {
      method: request.method,
      headers,
      body: hasBody && body.length > 0 ? body : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(forwardTimeoutMs),
    });
    answer = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    request.log.warn({ err: error, leader }, 'could not forward a request to the leader');
    reply.header('retry-after', '1');
    return sendProblem(reply, 'leader_unreachable', { detail: `This replica could not get an answer from the leader ${leader}. A write may or may not have been applied: retry it with the same id.` });
  }
  const sequence = Number(response.headers.get(journalSequenceHeader) ?? '');
  if (Number.isSafeInteger(sequence) && sequence > 0) await link.caughtUp(sequence, catchUpMs);
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    if (!responseSkipped.has(name)) reply.header(name, value);
  });
  return reply.send(answer);
}
