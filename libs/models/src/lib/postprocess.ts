import type { ModelOutputKind } from './specs';

export interface Ranked {
  index: number;
  value: number;
}

export interface ClassProbability {
  className: string;
  probability: number;
}

/**
 * Numerically stable softmax: exp(x_i - max) / sum_j exp(x_j - max), computed in float64.
 * Accepts -Infinity (a masked logit, probability 0) but not NaN or +Infinity.
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const n = logits.length;
  if (n === 0) {
    throw new RangeError('softmax of an empty vector');
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[i];
    if (Number.isNaN(v) || v === Infinity) {
      throw new RangeError(`softmax input ${i} is ${v}`);
    }
    if (v > max) max = v;
  }
  if (max === -Infinity) {
    throw new RangeError('softmax input has no finite value');
  }
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  // sum >= 1 because the maximum contributes exp(0).
  for (let i = 0; i < n; i++) {
    out[i] /= sum;
  }
  return out;
}

/**
 * The k largest values with their indices, largest first; ties go to the lower index so the
 * result does not depend on the sort's stability. k is clamped to the vector's length.
 */
export function topK(values: ArrayLike<number>, k: number): Ranked[] {
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`k must be a positive integer, got ${k}`);
  }
  const ranked: Ranked[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      throw new RangeError(`value ${i} is NaN`);
    }
    ranked.push({ index: i, value: v });
  }
  ranked.sort((a, b) => (b.value === a.value ? a.index - b.index : b.value > a.value ? 1 : -1));
  return ranked.slice(0, Math.min(k, ranked.length));
}

/**
 * Probability computation: turns the forward pass's output into the top-k classes.
 * Softmax is applied only when the model returns logits, so a model whose graph already
 * ends in softmax is not squashed twice.
 */
export function postprocess(
  output: ArrayLike<number>,
  model: { classNames: readonly string[]; output: ModelOutputKind },
  k: number,
): ClassProbability[] {
  if (output.length !== model.classNames.length) {
    throw new RangeError(`model output has ${output.length} values for ${model.classNames.length} classes`);
  }
  const probabilities = model.output === 'logits' ? softmax(output) : output;
  return topK(probabilities, k).map((r) => ({ className: model.classNames[r.index], probability: r.value }));
}
