import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import pino from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { ApiConfig } from '../config/config';

/** The API's one logger: JSON lines on stdout, at LOG_LEVEL. */
export function createLogger(level: ApiConfig['LOG_LEVEL']): pino.Logger {
  return pino({ level, name: 'api', base: { pid: process.pid } });
}

/**
 * Nest's logger backed by pino: the class name becomes `context`, and a message given as an
 * object (`{ msg, jobId, runId, ... }`) keeps its fields, so lifecycle events carry their ids.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: pino.Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack, context) for errors.
    const stack = params.length > 1 && typeof params[0] === 'string' ? params[0] : undefined;
    this.write('error', message, params, stack);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[], stack?: string): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const last = params[params.length - 1];
    const context = typeof last === 'string' ? last : undefined;
    const fields: Record<string, unknown> = { ...(context && { context }), ...(stack && { stack }) };
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...rest } = message as Record<string, unknown>;
      this.logger[level]({ ...fields, ...rest }, typeof msg === 'string' ? msg : '');
    } else {
      this.logger[level](fields, String(message));
    }
  }
}

/** Ids a request's path names, so its log line can be found by job, device or agent. */
const PATH_IDS: [RegExp, string][] = [
  [/\/jobs\/([0-9a-f-]{36})/i, 'jobId'],
  [/\/devices\/([0-9a-f-]{36})/i, 'deviceId'],
  [/\/agents\/([0-9a-f-]{36})/i, 'agentId'],
];

/** Agents call these several times a second each: logged at debug, not info. */
const AGENT_TRAFFIC = /^\/api\/agents\/[^/]+\/(heartbeat|reports)$/;

/** One line per request: method, path, status, time, a request id (x-request-id when given), and the ids in its path. */
export function requestLogger(logger: pino.Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && given.length <= 200 ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return AGENT_TRAFFIC.test(req.url?.split('?')[0] ?? '') ? 'debug' : 'info';
    },
    customProps: (req) => Object.fromEntries(PATH_IDS.flatMap(([pattern, key]) => {
      const id = pattern.exec(req.url ?? '')?.[1];
      return id ? [[key, id]] : [];
    })),
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
