import type { HttpException } from '@nestjs/common';
import { decideOutput, isProbabilityVector, parseOutput } from './model-check';

/** The status and details an error thrown by `fn` answers with. */
function answer(fn: () => unknown): { status: number; details: unknown } {
  try {
    fn();
  } catch (error) {
    const http = error as HttpException;
    return { status: http.getStatus(), details: (http.getResponse() as { details: unknown }).details };
  }
  throw new Error('nothing was thrown');
}

describe('the output kind of a registered model', () => {
  it('reads the form field, and names it when it is neither kind', () => {
    expect(parseOutput(undefined)).toBeUndefined();
    expect(parseOutput('logits')).toBe('logits');
    expect(answer(() => parseOutput('scores'))).toEqual({ status: 400, details: [{ path: 'output', message: 'must be one of probabilities, logits' }] });
  });

  it('tells a probability vector: each value in [0, 1], summing to 1', () => {
    expect(isProbabilityVector([0.2, 0.3, 0.5])).toBe(true);
    expect(isProbabilityVector(new Float32Array([1 / 3, 1 / 3, 1 / 3]))).toBe(true);
    expect(isProbabilityVector([0.2, 0.3])).toBe(false);
    expect(isProbabilityVector([1.5, -0.5])).toBe(false);
    expect(isProbabilityVector([Number.NaN, 1])).toBe(false);
  });

  it('detects logits when the output on zeros is not probabilities, and otherwise keeps the declared kind', () => {
    expect(decideOutput(undefined, [0, -10, -26.5])).toBe('logits');
    expect(decideOutput(undefined, [0.5, 0.5])).toBe('probabilities');
    expect(decideOutput('logits', [0.5, 0.5])).toBe('logits');
    expect(answer(() => decideOutput('probabilities', [0, -10]))).toEqual({ status: 422, details: [{ path: 'output', message: expect.stringContaining('declare "logits"') as string }] });
  });
});
