import { FarmApiError, FarmApiUnreachableError } from '@farm/client';

/** What `farm` exits with. 1 is left to Node itself (a crash), so no outcome is mistaken for one. */
export const EXIT = {
  ok: 0,
  /** Bad input: a file that cannot be read or parsed, a job that fails the schema, bad flags, or a request the API refused (400, 409, 422). */
  badInput: 2,
  /** The job finished, but not every run passed (failed, errored, timed out or cancelled). */
  jobNotPassed: 3,
  /** The API rejected the token (401) or the token may not do this (403). */
  auth: 4,
  /** No such job, device or route (404). */
  notFound: 5,
  /** Nothing answered at the API's address, or not in time. */
  unreachable: 6,
  /** The API failed (5xx) or answered something that is not the farm API's. */
  apiFailed: 7,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `
Exit codes:
  0  success; for watch and submit --watch: the job finished and every run passed
  2  bad input: unreadable or unparsable file, a job that fails the schema, bad flags or
     arguments, or a request the API refused (400, 409, 422)
  3  the job finished, but not every run passed (failed, errored, timed out or cancelled)
  4  authentication: the token was rejected (401) or is not allowed to do this (403)
  5  not found: no such job (404)
  6  the API cannot be reached (connection refused, unknown host, no answer in time)
  7  the API failed (5xx) or answered something that is not the farm API`;

/** A failure the CLI explains itself, with the exit code it means. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What to tell the user about an error, and the exit code it means; anything else is a bug and is thrown on. */
export function explain(error: unknown, context: { tokenGiven: boolean }): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof FarmApiUnreachableError) {
    return { message: `${error.message}\n  (the API's address comes from --api or FARM_API_URL)`, exitCode: EXIT.unreachable };
  }
  if (error instanceof FarmApiError) return explainApiError(error, context);
  throw error;
}

function explainApiError(error: FarmApiError, context: { tokenGiven: boolean }): { message: string; exitCode: ExitCode } {
  const said = error.body?.message ?? error.message;
  const details = (error.body?.details ?? []).map((d) => `\n  ${d.path}: ${d.message}`).join('');
  switch (error.status) {
    case 401:
      return {
        message: context.tokenGiven
          ? `token rejected: the API did not accept the token (${said})`
          : `token rejected: the API needs a token; pass --token or set FARM_TOKEN (${said})`,
        exitCode: EXIT.auth,
      };
    case 403:
      return { message: `not allowed: the token may not do this (${said})`, exitCode: EXIT.auth };
    case 404:
      return { message: `not found: ${said}`, exitCode: EXIT.notFound };
    case 400:
    case 409:
    case 422:
      return { message: `the API refused it (${error.status} ${error.body?.error ?? ''}): ${said}${details}`, exitCode: EXIT.badInput };
    default:
      return { message: `the API failed: ${error.body ? `${error.status} ${said}` : said}`, exitCode: EXIT.apiFailed };
  }
}
