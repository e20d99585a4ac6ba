import { ConfigError } from '@farm/contracts';
import { loadAgentConfig } from './config';

describe('agent configuration', () => {
  it('defaults to the simulated backend and needs nothing else', () => {
    const config = loadAgentConfig({});
    expect(config.BACKENDS).toEqual(['simulated']);
    expect(config.ANDROID_APK_COMPONENT).toBeUndefined();
  });

  it('reads the android settings', () => {
    expect(loadAgentConfig({ BACKENDS: 'android' }).ANDROID_RUNNER).toBe('chrome');
    const config = loadAgentConfig({
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
      expect(() => loadAgentConfig(env)).toThrow(ConfigError);
      expect(() => loadAgentConfig(env)).toThrow(pattern);
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
