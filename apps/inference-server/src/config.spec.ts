import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('has defaults that work on one machine', () => {
    expect(loadConfig({})).toEqual({
      port: 3100,
      host: '0.0.0.0',
      models: ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'],
      concurrency: 2,
      queue: 8,
      maxBytes: 5 * 1024 * 1024,
      apiUrl: 'http://127.0.0.1:3000',
      modelFetchTimeoutMs: 30_000,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        INFERENCE_MODELS: ' inception_v3 , mobilenet_v2 ',
        INFERENCE_CONCURRENCY: '1',
        INFERENCE_QUEUE: '0',
        INFERENCE_MAX_BYTES: '1000',
        MODELS_CACHE_DIR: '/somewhere',
        API_URL: 'http://farm-api:3000',
        INFERENCE_FETCH_TIMEOUT_MS: '5000',
      }),
    ).toEqual({
      port: 0,
      host: '127.0.0.1',
      models: ['inception_v3', 'mobilenet_v2'],
      concurrency: 1,
      queue: 0,
      maxBytes: 1000,
      cacheDir: '/somewhere',
      apiUrl: 'http://farm-api:3000',
      modelFetchTimeoutMs: 5000,
    });
  });

  it('treats blank variables as unset', () => {
    expect(loadConfig({ PORT: '', INFERENCE_MODELS: ' ' }).port).toBe(3100);
  });

  it.each([
    [{ PORT: 'abc' }, /PORT: must be an integer from 0 to 65535 \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT: must be at most 65535/],
    [{ INFERENCE_CONCURRENCY: '0' }, /INFERENCE_CONCURRENCY: must be at least 1/],
    [{ INFERENCE_MAX_BYTES: '5MB' }, /INFERENCE_MAX_BYTES: must be an integer/],
    [{ INFERENCE_MODELS: 'mobilenet_v2,resnet' }, /INFERENCE_MODELS: unknown model "resnet"/],
    [{ INFERENCE_MODELS: 'mobilenet_v2,mobilenet_v2' }, /INFERENCE_MODELS: must not repeat a model/],
    [{ API_URL: 'ftp://farm' }, /API_URL: must be an http\(s\) URL/],
    [{ INFERENCE_FETCH_TIMEOUT_MS: '10' }, /INFERENCE_FETCH_TIMEOUT_MS: must be at least 100/],
  ])('names the bad variable in %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', INFERENCE_QUEUE: '-1' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'INFERENCE_QUEUE']);
    }
  });
});
