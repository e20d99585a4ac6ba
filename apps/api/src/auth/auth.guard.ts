import { CanActivate, ExecutionContext, ForbiddenException, HttpException, HttpStatus, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TokenPrincipal } from '@farm/db';
import type { Request, RequestHandler, Response } from 'express';
import { PrismaService } from '../prisma/prisma.service';
import { ACCESS_KEY, ROLES_OF, type AccessLevel } from './access';
import { RateLimiter } from './rate-limiter';
import { SESSION_COOKIE, readCookie } from './session-cookie';
import { TokensService } from './tokens.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A request that passed the guard carries the token it presented. */
export type AuthedRequest = Request & { principal?: TokenPrincipal };

/** The token a request presents: `Authorization: Bearer <token>`, else the dashboard's session cookie. */
export function presentedToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? '';
  return readCookie(req.headers.cookie, SESSION_COOKIE);
}

/**
 * The one place requests are let in: the route's declared access level against the token's
 * role (401 without a valid token, 403 for a role the route does not admit), agents only as
 * themselves, and the rate limit per token (429 with Retry-After).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** Agent id → name; an agent keeps its id for life, so a name once read stays true. */
  private readonly agentNames = new Map<string, string>();

  constructor(
    private readonly reflector: Reflector,
    private readonly prisma: PrismaService,
    private readonly limiter: RateLimiter,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    // Unreachable while the boot check stands; a route without a policy stays closed.
    if (level === undefined) throw new ForbiddenException('this route declares no access policy');
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const presented = presentedToken(req);
    const principal = presented ? await this.tokens.find(presented) : undefined;
    const valid = principal && !principal.revoked ? principal : undefined;
    await this.limit(valid ? `token:${valid.id}` : `ip:${req.ip ?? 'unknown'}`, http.getResponse<Response>());
    if (level === 'public') return true;
    if (!valid) throw new UnauthorizedException(unauthorized(principal, presented));
    if (!ROLES_OF[level].includes(valid.role)) throw new ForbiddenException(refusal(level, valid));
    if (level === 'agent') await this.checkAgent(req, valid);
    req.principal = valid;
    return true;
  }

  private async limit(key: string, res: Response): Promise<void> {
    const decision = await this.limiter.take(key);
    if (decision.allowed) return;
    res.setHeader('Retry-After', String(decision.retryAfterSeconds));
    throw new HttpException(`too many requests: retry in ${decision.retryAfterSeconds} s`, HttpStatus.TOO_MANY_REQUESTS);
  }

  /** An agent token acts only as its agent: the name it registers, the id in the path. */
  private async checkAgent(req: AuthedRequest, token: TokenPrincipal): Promise<void> {
    const id = req.params['id'];
    const body: unknown = req.body;
    const claimed =
      typeof id === 'string'
        ? UUID.test(id) ? await this.agentName(id) : token.agentName // a malformed id is the route's 400
        : typeof body === 'object' && body !== null && 'name' in body && typeof body.name === 'string' ? body.name : token.agentName;
    if (claimed !== token.agentName) throw new ForbiddenException(`this token may act only as agent ${token.agentName ?? '(none)'}`);
  }

  private async agentName(id: string): Promise<string | undefined> {
    const known = this.agentNames.get(id);
    if (known !== undefined) return known;
    const agent = await this.prisma.agent.findUnique({ where: { id }, select: { name: true } });
    if (agent) this.agentNames.set(id, agent.name);
    return agent?.name;
  }
}

/**
 * The same tokens and roles for what is served outside Nest's routes (the operators' queue
 * board): 401 or 403 in the API's error shape, else on to the next handler.
 */
export function requireAccess(level: Exclude<AccessLevel, 'public' | 'agent'>, tokens: TokensService): RequestHandler {
  return (req, res, next) => {
    const presented = presentedToken(req);
    const fail = (statusCode: 401 | 403, message: string): void =>
      void res.status(statusCode).json({ statusCode, error: statusCode === 401 ? 'Unauthorized' : 'Forbidden', message, details: [] });
    (presented ? tokens.find(presented) : Promise.resolve(undefined)).then((principal) => {
      if (!principal || principal.revoked) fail(401, unauthorized(principal, presented));
      else if (!ROLES_OF[level].includes(principal.role)) fail(403, refusal(level, principal));
      else next();
    }, next);
  };
}

function unauthorized(principal: TokenPrincipal | undefined, presented: string | undefined): string {
  return principal?.revoked ? 'this token was revoked' : presented ? 'the token is not valid' : 'a token is required (Authorization: Bearer <token>)';
}

function refusal(level: AccessLevel, token: TokenPrincipal): string {
  if (token.role === 'agent') return 'an agent token may only register its agent, heartbeat and report its runs';
  if (level === 'agent') return 'this route is for agents, with their own agent token';
  return `a ${token.role} token may not do this (it needs ${ROLES_OF[level].join(' or ')})`;
}
