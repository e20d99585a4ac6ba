import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth } from '@nestjs/swagger';
import type { TokenRole } from '@farm/contracts';

/**
 * Every route declares who may call it; the global AuthGuard enforces it and the API refuses to
 * start when a route declares nothing.
 * - `public`: anyone, no token (health, the sign-in and sign-out of the dashboard, and the model
 *   files devices and the inference server fetch, which hold no token);
 * - `read`: viewer, operator, admin;
 * - `operate`: operator, admin (submit, cancel, schedules, alerts, quarantine and release);
 * - `admin`: admin (tokens, model registration);
 * - `agent`: an agent token, acting only as its own agent (register, heartbeat, reports).
 */
export const ACCESS_LEVELS = ['public', 'read', 'operate', 'admin', 'agent'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const ACCESS_KEY = 'farm:access';

/** The route's access level; the OpenAPI document shows the token it takes (none when public). */
export const Access = (level: AccessLevel): MethodDecorator & ClassDecorator =>
  level === 'public' ? SetMetadata(ACCESS_KEY, level) : applyDecorators(SetMetadata(ACCESS_KEY, level), ApiBearerAuth(), ApiCookieAuth());

/** The roles each level admits. */
export const ROLES_OF: Record<AccessLevel, readonly TokenRole[]> = {
  public: ['admin', 'operator', 'viewer', 'agent'],
  read: ['admin', 'operator', 'viewer'],
  operate: ['admin', 'operator'],
  admin: ['admin'],
  agent: ['agent'],
};
