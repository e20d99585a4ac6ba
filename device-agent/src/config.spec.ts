import { ConfigError } from '@farm/contracts';
import { loadAgentConfig } from './config';

const TOKEN = { AGENT_TOKEN: 'farm_test-token' };

describe('agent configuration', () => {
  it('needs its own token', () => {
    expect(() => loadAgentConfig({})).toThrow(/AGENT_TOKEN: is required: a token of this agent/);
  });

  it('defaults to the simulated backend and needs nothing but its token', () => {
    const config = loadAgentConfig(TOKEN);
    expect(config.BACKENDS).toEqual(['simulated']);
    expect(config.ANDROID_APK_COMPONENT).toBeUndefined();
  });

  it('reads the android settings', () => {
    expect(loadAgentConfig({ ...TOKEN, BACKENDS: 'android' }).ANDROID_RUNNER).toBe('chrome');
    const config = loadAgentConfig({
      ...TOKEN,
      BACKENDS: 'android',
      ANDROID_RUNNER: 'apk',
      ANDROID_APK_COMPONENT: 'org.example.bench/.BenchmarkActivity',
      ANDROID_CURRENT_UNIT: 'mA',
      ANDROID_CURRENT_SIGN: 'discharge-negative',
      ANDROID_TAGS: 'rack-1,usb-hub-2',
    });
    expect(config).toMatchObject({ BACKENDS: ['android'], ANDROID_CURRENT_UNIT: 'mA', ANDROID_CURRENT_SIGN: 'discharge-negative', ANDROID_TAGS: ['rack-1', 'usb-hub-2'] });
  });

  it('names each bad setting, with its value', () => {
    const bad = (env: NodeJS.ProcessEnv, pattern: RegExp) => {
      expect(() => loadAgentConfig({ ...TOKEN, ...env })).toThrow(ConfigError);
      expect(() => loadAgentConfig({ ...TOKEN, ...env })).toThrow(pattern);
    };
    bad({ BACKENDS: 'android', ANDROID_RUNNER: 'apk' }, /ANDROID_APK_COMPONENT: is required with ANDROID_RUNNER=apk/);
    bad({ BACKENDS: 'android', ANDROID_RUNNER: 'native' }, /ANDROID_RUNNER="native"/);
    bad({ BACKENDS: 'android', ANDROID_APK_COMPONENT: 'no-activity' }, /ANDROID_APK_COMPONENT="no-activity": must be package\/Activity/);
    bad({ ANDROID_CURRENT_UNIT: 'A' }, /ANDROID_CURRENT_UNIT="A"/);
    bad({ ANDROID_SAMPLE_MS: '1' }, /ANDROID_SAMPLE_MS="1"/);
    bad({ BACKENDS: 'iphone' }, /BACKENDS="iphone"/);
    bad({ SIM_FAULTS: 'explode:x' }, /SIM_FAULTS="explode:x": "explode:x" is not kind:serial/);
  });
});
