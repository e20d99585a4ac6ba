import { FarmApiError, FarmApiUnreachableError } from '@farm/client';
import { CliError, EXIT, explain } from './exit';

const apiError = (statusCode: number, error: string, message: string, details: { path: string; message: string }[] = []) =>
  new FarmApiError(statusCode, { statusCode, error, message, details }, `GET /api/x: ${statusCode}`);

describe('explain', () => {
  const withToken = { tokenGiven: true };

  it('says "token rejected" for a 401, and how to give a token when none was given', () => {
    expect(explain(apiError(401, 'Unauthorized', 'invalid token'), withToken)).toEqual({ message: 'token rejected: the API did not accept the token (invalid token)', exitCode: EXIT.auth });
    expect(explain(apiError(401, 'Unauthorized', 'a token is required'), { tokenGiven: false }).message).toBe(
      'token rejected: the API needs a token; pass --token or set FARM_TOKEN (a token is required)',
    );
  });

  it('says "not allowed" for a 403, with the same exit code as a rejected token', () => {
    expect(explain(apiError(403, 'Forbidden', 'viewers cannot submit jobs'), withToken)).toEqual({ message: 'not allowed: the token may not do this (viewers cannot submit jobs)', exitCode: EXIT.auth });
  });

  it("passes on a 404's message as not found", () => {
    expect(explain(apiError(404, 'Not Found', 'job x does not exist'), withToken)).toEqual({ message: 'not found: job x does not exist', exitCode: EXIT.notFound });
  });

  it("shows a refusal's message and every field it names as bad input", () => {
    const sut = explain(apiError(422, 'Unprocessable Entity', 'The job names a model the farm does not have', [{ path: 'models[0]', message: 'unknown model "x"' }]), withToken);
    expect(sut).toEqual({ message: 'the API refused it (422 Unprocessable Entity): The job names a model the farm does not have\n  models[0]: unknown model "x"', exitCode: EXIT.badInput });
    expect(explain(apiError(409, 'Conflict', 'job x has already finished'), withToken).exitCode).toBe(EXIT.badInput);
  });

  it('tells an API that failed, or is not the farm, from one that cannot be reached', () => {
    expect(explain(apiError(500, 'Internal Server Error', 'Internal server error'), withToken)).toEqual({ message: 'the API failed: 500 Internal server error', exitCode: EXIT.apiFailed });
    expect(explain(new FarmApiError(200, undefined, 'GET /api/agents: the answer is not JSON'), withToken)).toEqual({ message: 'the API failed: GET /api/agents: the answer is not JSON', exitCode: EXIT.apiFailed });
    const unreachable = explain(new FarmApiUnreachableError('http://127.0.0.1:1/', 'connection refused'), withToken);
    expect(unreachable.exitCode).toBe(EXIT.unreachable);
    expect(unreachable.message).toMatch(/^cannot reach the API at http:\/\/127.0.0.1:1\/: connection refused\n.*--api or FARM_API_URL/);
  });

  it("keeps a CLI error's own message and code, and throws anything else on", () => {
    expect(explain(new CliError('bad file', EXIT.badInput), withToken)).toEqual({ message: 'bad file', exitCode: EXIT.badInput });
    expect(() => explain(new TypeError('a bug'), withToken)).toThrow('a bug');
  });

  it('gives every outcome its own code, none of them 1 (a crash)', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain(1);
  });
});
