import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req, Res, UnauthorizedException, ForbiddenException } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SessionCreateSchema, TokenCreateSchema, type SessionView, type TokenCreate, type TokenCreated, type TokenView } from '@farm/contracts';
import type { Response } from 'express';
import type { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { jsonSchema } from '../common/openapi';
import { Access } from './access';
import type { AuthedRequest } from './auth.guard';
import { SESSION_COOKIE, SESSION_COOKIE_PATH } from './session-cookie';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@Controller('tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'Every token: its name, role, agent, visible prefix, and when it was revoked' })
  list(): Promise<TokenView[]> {
    return this.tokens.list();
  }

  @Post()
  @Access('admin')
  @ApiOperation({ summary: 'A new token; the answer is the only time the token is shown' })
  @ApiBody({ schema: jsonSchema(TokenCreateSchema) })
  create(@Body(new ZodPipe(TokenCreateSchema)) body: TokenCreate): Promise<TokenCreated> {
    return this.tokens.create(body);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Revokes a token: from now on it is refused (401)' })
  revoke(@Param('id', ParseUUIDPipe) id: string): Promise<TokenView> {
    return this.tokens.revoke(id);
  }
}

/** The dashboard's sign-in: a token traded for an HttpOnly cookie, which EventSource sends too. */
@ApiTags('tokens')
@Controller('session')
export class SessionController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'Who the presented token (or session cookie) is' })
  whoami(@Req() req: AuthedRequest): SessionView {
    // The guard set it: a `read` route is never reached without a principal.
    const principal = req.principal as NonNullable<AuthedRequest['principal']>;
    return { name: principal.name, role: principal.role, prefix: principal.prefix };
  }

  @Post()
  @HttpCode(200)
  @Access('public')
  @ApiOperation({ summary: 'Signs in with a token: sets the HttpOnly session cookie the dashboard uses' })
  @ApiBody({ schema: jsonSchema(SessionCreateSchema) })
  async create(
    @Body(new ZodPipe(SessionCreateSchema)) body: z.output<typeof SessionCreateSchema>,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionView> {
    const principal = await this.tokens.find(body.token);
    if (!principal || principal.revoked) throw new UnauthorizedException(principal ? 'this token was revoked' : 'the token is not valid');
    if (principal.role === 'agent') throw new ForbiddenException('an agent token cannot sign in to the dashboard');
    res.cookie(SESSION_COOKIE, body.token, { httpOnly: true, sameSite: 'strict', path: SESSION_COOKIE_PATH, secure: req.secure });
    return { name: principal.name, role: principal.role, prefix: principal.prefix };
  }

  @Delete()
  @HttpCode(204)
  @Access('public')
  @ApiOperation({ summary: 'Signs out: clears the session cookie' })
  remove(@Res({ passthrough: true }) res: Response): void {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: SESSION_COOKIE_PATH });
  }
}
