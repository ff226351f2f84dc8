/**
 * Authentication and authorisation. Every route declares the roles that may call it in
 * `config.roles`; a route without roles needs the operator role (or, for a read, the operator or
 * the auditor), and only routes marked
 * `config.public` need no credentials (`/health`, and `POST /v1/payments`, whose authority is the
 * payer's signature). Credentials are bearer tokens: the operator token, or an API key issued to a
 * participant (bank, merchant, government body, auditor, regulator). Keys are compared through
 * their SHA-256 digests (the platform stores nothing else) and never logged.
 *
 * Browsers cannot send a bearer token when opening `/docs`, so the docs UI also accepts HTTP
 * Basic authentication with the token as the password, and its 401 asks the browser for it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../platform/platform.ts';
import type { Role } from '../platform/types.ts';
import { sendProblem } from './problem.ts';

export type { Role };

export interface Principal {
  readonly role: Role;
  /** The participant id; 'operator' for the operator token. */
  readonly id: string;
  /** A bank's own id; the bank of a merchant's or government body's wallet. */
  readonly bank: string | null;
  /** The wallet a merchant or government body acts for. */
  readonly wallet: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed to call the route. Routes without it get the operator role (secure by default). */
    roles?: readonly Role[];
    /** Marks the few routes that need no bearer credentials. */
    public?: boolean;
    /** A read only the leader can answer: a replica forwards it like a write. */
    leader?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const tokenRule = 'the operator token must be 16 to 512 visible ASCII characters (no spaces)';

/** Every role that may read everything it is shown (`auditor` reads all, but writes nothing). */
export const allRoles: readonly Role[] = ['operator', 'bank', 'merchant', 'government', 'auditor', 'regulator'];

/** A token a client can send in a bearer header: RFC 6750 allows no spaces. */
export function isUsableToken(token: string): boolean {
  return /^[\x21-\x7e]{16,512}$/.test(token);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A new participant API key (shown once) and the digest the platform stores. */
export function newApiKey(): { apiKey: string; keyHash: string } {
  const apiKey = `tk_${randomBytes(32).toString('base64url')}`;
  return { apiKey, keyHash: digest(apiKey).toString('hex') };
}

export function credentialFrom(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  const bearer = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header);
  if (bearer !== null) return bearer[1]!;
  const basic = /^Basic +([A-Za-z0-9+/=]{1,1024})$/i.exec(header);
  if (basic !== null && request.url.startsWith('/docs')) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

const operator: Principal = Object.freeze({ role: 'operator', id: 'operator', bank: null, wallet: null });

export function registerAuth(app: FastifyInstance, adminToken: string, platform: Platform): void {
  if (!isUsableToken(adminToken)) throw new Error(tokenRule);
  const adminDigest = digest(adminToken);
  app.decorateRequest('principal', null);
  // Every route, including those added by plugins such as the docs UI, needs a role unless it is
  // explicitly public. This hook must be added before any route is registered.
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { roles?: readonly Role[]; public?: boolean };
    if (config.public === true || config.roles !== undefined) return;
    // The auditor reads everything and writes nothing.
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const readOnly = methods.every((method) => method === 'GET' || method === 'HEAD');
    route.config = { ...config, roles: readOnly ? ['operator', 'auditor'] : ['operator'] } as typeof route.config;
  });
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public === true || request.is404) return;
    const roles = config.roles ?? ['operator'];  // set for every route by the onRoute hook above
    const credential = credentialFrom(request);
    let principal: Principal | null = null;
    if (credential !== null) {
      const presented = digest(credential);
      if (timingSafeEqual(presented, adminDigest)) {
        principal = operator;
      } else {
        // A map lookup by digest: a timing difference can only reveal a digest prefix, which does
        // not help find a key.
        const participant = platform.participantByKeyHash(presented.toString('hex'));
        if (participant !== undefined) {
          if (participant.status !== 'active') return sendProblem(reply, 'participant_suspended');
          // Merchants and government bodies act through their bank: its suspension stops them too.
          if (participant.role !== 'bank' && participant.bank !== null && platform.getParticipant(participant.bank)?.status !== 'active') {
            return sendProblem(reply, 'participant_suspended');
          }
          principal = { role: participant.role, id: participant.id, bank: participant.bank, wallet: participant.wallet };
        }
      }
    }
    if (principal === null) {
      if (request.url.startsWith('/docs')) reply.header('www-authenticate', 'Basic realm="tengri", charset="UTF-8"');
      else reply.header('www-authenticate', 'Bearer realm="tengri"');
      return sendProblem(reply, 'unauthorized');
    }
    if (!roles.includes(principal.role)) return sendProblem(reply, 'forbidden');
    request.principal = principal;
  });
}
