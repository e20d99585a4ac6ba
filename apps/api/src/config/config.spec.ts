import { ConfigError } from '@farm/contracts';
import { loadApiConfig } from './config';

describe('API configuration', () => {
  it('works on one machine with no variables at all', () => {
    expect(loadApiConfig({})).toMatchObject({ PORT: 3000, REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: expect.stringContaining('127.0.0.1') });
  });

  it('names every bad variable with its value', () => {
    expect(() => loadApiConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REDIS_URL: 'nope' })).toThrow(ConfigError);
    try {
      loadApiConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REDIS_URL: 'nope' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('PORT="eighty"');
      expect(message).toContain('DATABASE_URL="mysql://x"');
      expect(message).toContain('REDIS_URL="nope"');
    }
  });
});
