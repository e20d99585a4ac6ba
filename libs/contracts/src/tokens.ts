import { z } from 'zod';
import { AgentNameSchema } from './agents';

/**
 * Who a token speaks for: `admin` may do everything a user may, `operator` submits and cancels
 * jobs, edits schedules and quarantines devices, `viewer` reads; `agent` tokens are bound to one
 * agent and may only register it, heartbeat and report its runs.
 */
export const TOKEN_ROLES = ['admin', 'operator', 'viewer', 'agent'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];
export const TokenRoleSchema = z.enum(TOKEN_ROLES);

export const TokenCreateSchema = z
  .object({
    role: TokenRoleSchema,
    /** The agent an agent token is bound to; required for `agent`, refused for every other role. */
    agent: AgentNameSchema.optional(),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.role === 'agent' && value.agent === undefined) ctx.addIssue({ code: 'custom', path: ['agent'], message: 'is required for an agent token' });
    if (value.role !== 'agent' && value.agent !== undefined) ctx.addIssue({ code: 'custom', path: ['agent'], message: 'is only for agent tokens' });
  });
export type TokenCreate = z.output<typeof TokenCreateSchema>;

export interface TokenView {
  id: string;
  name: string;
  role: TokenRole;
  /** The agent an agent token is bound to. */
  agent: string | null;
  /** The token's first characters, enough to tell it apart; the token itself is never kept. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/** The answer to creating a token: the only time the token itself is shown. */
export interface TokenCreated extends TokenView {
  token: string;
}

/** A dashboard signs in by posting a token; the answer sets an HttpOnly session cookie. */
export const SessionCreateSchema = z.object({ token: z.string().min(1).max(200) }).strict();

export interface SessionView {
  name: string;
  role: TokenRole;
  prefix: string;
}
