import fc from 'fast-check';
import { postprocess, softmax, topK } from './postprocess';

const logit = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const logits = fc.array(logit, { minLength: 1, maxLength: 64 });

describe('softmax', () => {
  it('gives known values', () => {
    expect(Array.from(softmax([0, 0]))).toEqual([0.5, 0.5]);
    const p = softmax([1, 2, 3]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0] + e[1] + e[2];
    e.forEach((v, i) => expect(p[i]).toBeCloseTo(v / s, 15));
    expect(p[2]).toBeCloseTo(0.6652409557748219, 15);
    expect(Array.from(softmax([5]))).toEqual([1]);
  });

  it('sums to 1 and stays in [0, 1]', () => {
    fc.assert(
      fc.property(logits, (x) => {
        const p = softmax(x);
        const sum = p.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
        p.forEach((v) => {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        });
      }),
    );
  });

  it('does not depend on the order of its inputs', () => {
    fc.assert(
      fc.property(
        logits.chain((x) => fc.tuple(fc.constant(x), fc.shuffledSubarray(x.map((_, i) => i), { minLength: x.length, maxLength: x.length }))),
        ([x, perm]) => {
          const p = softmax(x);
          const q = softmax(perm.map((i) => x[i]));
          perm.forEach((from, to) => expect(q[to]).toBeCloseTo(p[from], 14));
        },
      ),
    );
  });

  it('is invariant to adding a constant, so huge logits do not overflow', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 16 }), fc.double({ min: -1e300, max: 1e300, noNaN: true }), (x, c) => {
        const p = softmax(x);
        // Where the shift swamps the logits' precision the result degrades gracefully but stays a distribution.
        const q = softmax(x.map((v) => v + c));
        expect(q.every((v) => Number.isFinite(v))).toBe(true);
        if (Math.abs(c) < 1e6) p.forEach((v, i) => expect(q[i]).toBeCloseTo(v, 6));
      }),
    );
    expect(Array.from(softmax([1000, 1000]))).toEqual([0.5, 0.5]);
    expect(softmax([1e308, 0])[0]).toBe(1);
    expect(softmax([-1e308, -1e308])[0]).toBe(0.5);
  });

  it('takes -Infinity as probability 0 and refuses NaN, +Infinity and empty input', () => {
    expect(Array.from(softmax([-Infinity, 0]))).toEqual([0, 1]);
    expect(() => softmax([NaN, 1])).toThrow(RangeError);
    expect(() => softmax([Infinity, 1])).toThrow(RangeError);
    expect(() => softmax([-Infinity])).toThrow(RangeError);
    expect(() => softmax([])).toThrow(RangeError);
  });
});

describe('topK', () => {
  it('returns the largest values first, ties to the lower index', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5], 3)).toEqual([
      { index: 1, value: 0.5 },
      { index: 3, value: 0.5 },
      { index: 2, value: 0.2 },
    ]);
    expect(topK([3, 1], 5)).toHaveLength(2);
    expect(() => topK([1], 0)).toThrow(RangeError);
    expect(() => topK([1], 1.5)).toThrow(RangeError);
  });

  it('agrees with a full sort and does not depend on input order', () => {
    fc.assert(
      fc.property(logits, fc.integer({ min: 1, max: 70 }), (x, k) => {
        const top = topK(x, k);
        // "+ 0" folds -0 into 0: the two tie, and toEqual tells them apart.
        const sorted = [...x].sort((a, b) => b - a).slice(0, Math.min(k, x.length)).map((v) => v + 0);
        expect(top.map((r) => r.value + 0)).toEqual(sorted);
        top.forEach((r) => expect(x[r.index]).toBe(r.value));
        const reversed = topK([...x].reverse(), k);
        expect(reversed.map((r) => r.value + 0)).toEqual(sorted);
      }),
    );
  });
});

describe('postprocess', () => {
  const classNames = ['a', 'b', 'c'];

  it('ranks probabilities as they are when the model ends in softmax', () => {
    expect(postprocess(new Float32Array([0.2, 0.7, 0.1]), { classNames, output: 'probabilities' }, 2)).toEqual([
      { className: 'b', probability: Math.fround(0.7) },
      { className: 'a', probability: Math.fround(0.2) },
    ]);
  });

  it('applies softmax to logits', () => {
    const top = postprocess([1, 2, 3], { classNames, output: 'logits' }, 3);
    expect(top.map((t) => t.className)).toEqual(['c', 'b', 'a']);
    expect(top[0].probability).toBeCloseTo(0.6652409557748219, 15);
    expect(top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 15);
  });

  it('refuses an output that does not match the class list', () => {
    expect(() => postprocess([1, 2], { classNames, output: 'logits' }, 1)).toThrow(/2 values for 3 classes/);
  });
});
