import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  PipeTransform,
  UnprocessableEntityException,
  BadRequestException,
} from '@nestjs/common';
import { zodDetails, type ApiError, type ErrorDetail } from '@farm/contracts';
import type { Response } from 'express';
import { z } from 'zod';

/** 400 naming every bad field. */
export class InvalidInput extends BadRequestException {
  constructor(details: ErrorDetail[], message = 'The request is invalid') {
    super({ message, details });
  }
}

/** 422: well-formed, but it names something that does not exist or cannot be served. */
export class Unprocessable extends UnprocessableEntityException {
  constructor(details: ErrorDetail[], message = 'The request cannot be processed') {
    super({ message, details });
  }
}

/** Validates a body, query or param with a zod schema, answering 400 with every bad path. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly prefix?: string,
  ) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const details = zodDetails(parsed.error).map((d) =>
      this.prefix ? { ...d, path: d.path === '(body)' ? this.prefix : `${this.prefix}.${d.path}` } : d,
    );
    throw new InvalidInput(details);
  }
}

/** Every error leaves the API as `{ statusCode, error, message, details }`. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ApiError {
    const tooLarge = bodyTooLarge(exception);
    if (tooLarge) return { statusCode: 413, error: 'Payload Too Large', message: tooLarge, details: [] };
    const raced = raceLost(exception);
    if (raced) return raced;
    if (!(exception instanceof HttpException)) {
      return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error', details: [] };
    }
    const statusCode = exception.getStatus();
    const raw = exception.getResponse();
    const error = HttpStatus[statusCode]?.split('_').map(capitalise).join(' ') ?? 'Error';
    if (typeof raw === 'string') return { statusCode, error, message: raw, details: [] };
    const { message, details } = raw as { message?: unknown; details?: ErrorDetail[] };
    // Express's body parser reports bad JSON and oversize bodies as plain HttpExceptions.
    const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
    return { statusCode, error, message: text, details: details ?? [] };
  }
}

/**
 * A write that lost a race with another request (the row it checked was deleted, or the name it
 * checked was taken, in between) is that request's 404 or 409, not a server error.
 */
function raceLost(exception: unknown): ApiError | undefined {
  const code = typeof exception === 'object' && exception !== null && 'code' in exception ? exception.code : undefined;
  if (code === 'P2025') return { statusCode: 404, error: 'Not Found', message: 'it no longer exists', details: [] };
  if (code === 'P2002') return { statusCode: 409, error: 'Conflict', message: 'it already exists', details: [] };
  return undefined;
}

/** Express's body parser refuses an oversize body with an error of its own (http-errors), before any route. */
function bodyTooLarge(exception: unknown): string | undefined {
  if (typeof exception !== 'object' || exception === null || !('type' in exception) || exception.type !== 'entity.too.large') return undefined;
  const limit = 'limit' in exception && typeof exception.limit === 'number' ? exception.limit : undefined;
  return `The request body is too large${limit === undefined ? '' : `: at most ${limit} bytes here`}`;
}

function capitalise(word: string): string {
  return word.charAt(0) + word.slice(1).toLowerCase();
}
