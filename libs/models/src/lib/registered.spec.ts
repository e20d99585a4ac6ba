import { createHash } from 'node:crypto';
import type { ModelView } from '@farm/contracts';
import { RegisteredModelError } from '@farm/contracts';
import { checkWeights, runnableSpec, sha256Hex, weightBytes } from './registered';

const view = (overrides: Partial<ModelView> = {}): ModelView => ({
  name: 'my-cnn',
  bundled: false,
  format: 'tfjs-layers',
  version: null,
  sizeBytes: 100,
  sha256: createHash('sha256').update(new Uint8Array([1, 2, 3, 4])).digest('hex'),
  inputShape: [1, 64, 64, 3],
  inputSize: 64,
  output: 'logits',
  outputSize: 2,
  classNames: ['cat', 'dog'],
  createdAt: null,
  files: [{ path: 'model.json', sizeBytes: 96, url: '/api/models/my-cnn/files/model.json' }],
  ...overrides,
});

describe('registered models', () => {
  it('makes a runnable spec of the API view', () => {
    expect(runnableSpec(view())).toEqual({ name: 'my-cnn', format: 'tfjs-layers', inputSize: 64, inputShape: [1, 64, 64, 3], classNames: ['cat', 'dog'], output: 'logits' });
  });

  it('refuses a view no device can run', () => {
    expect(() => runnableSpec(view({ inputShape: [1, 4], inputSize: null }))).toThrow(new RegisteredModelError('invalid', 'model "my-cnn" takes input [1, 4]; devices run models whose input is [1, S, S, 3]'));
    expect(() => runnableSpec(view({ classNames: ['cat'] }))).toThrow(/names 1 classes for 2 outputs/);
  });

  it('hashes the weights tfjs loaded, split or whole, as the registry does', async () => {
    const whole = new Uint8Array([1, 2, 3, 4]).buffer;
    expect(await sha256Hex(whole)).toBe(view().sha256);
    expect(new Uint8Array(weightBytes({ weightData: [new Uint8Array([1, 2]).buffer, new Uint8Array([3, 4]).buffer] }))).toEqual(new Uint8Array([1, 2, 3, 4]));
    await expect(checkWeights(view(), { weightData: whole })).resolves.toBeUndefined();
  });

  it('refuses weights whose sha256 is not the registry’s', async () => {
    const changed = new Uint8Array([1, 2, 3, 5]).buffer;
    await expect(checkWeights(view(), { weightData: changed })).rejects.toMatchObject({ kind: 'checksum', message: expect.stringContaining(`the registry says ${view().sha256}`) });
  });
});
