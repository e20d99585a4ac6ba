import pino from 'pino';

/** The part of a pino logger the server uses. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function createLogger(): Logger {
  return pino({ name: 'inference-server' });
}
