import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ApiError } from '@farm/contracts';

export type ErrorDetail = ApiError['details'][number];

/** An error that becomes a JSON error response. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Lets pages on other origins call the server and read its Resource Timing entries. */
export const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Timing-Allow-Origin': '*',
};

export function sendJson(res: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    ...CORS_HEADERS,
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

export function errorBody(err: HttpError): ApiError {
  return { statusCode: err.statusCode, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message, details: err.details };
}

/**
 * Reads the whole body, refusing more than `maxBytes` as soon as the count passes it (or the
 * declared Content-Length does), without buffering the excess.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(413, `the body is larger than ${maxBytes} bytes`, [{ path: 'body', message: `must be at most ${maxBytes} bytes` }]);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, length));
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > maxBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const cutShort = (why: string): HttpError => new HttpError(400, `the request body was cut short (${why})`, [{ path: 'body', message: 'must be sent whole' }]);
    const onError = (err: Error): void => finish(cutShort(err.message));
    // A client that goes away mid-body must not leave the handler waiting forever.
    const onClose = (): void => finish(cutShort('connection closed'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.once('close', onClose);
  });
}

/**
 * After answering early, consume what the client still sends, so it reads the answer instead
 * of a reset connection; give up and drop the connection past `limit` bytes.
 */
export function discardBody(req: IncomingMessage, limit: number): void {
  if (req.readableEnded) return;
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) req.socket.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}
