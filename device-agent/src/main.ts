import { ConfigError } from '@farm/contracts';
import { Agent } from './agent';
import { Adb } from './backends/android/adb';
import { AndroidBackend } from './backends/android/android.backend';
import type { DeviceBackend } from './backends/backend';
import { BenchWebHost } from './backends/bench-web-page';
import { BrowserBackend } from './backends/browser/browser.backend';
import { SimulatedBackend } from './backends/simulated/simulated.backend';
import { loadAgentConfig, type AgentConfig } from './config';
import { createLogger, type Logger } from './logger';

function createBackends(config: AgentConfig, log: Logger): DeviceBackend[] {
  return config.BACKENDS.map((name): DeviceBackend => {
    switch (name) {
      case 'simulated':
        return new SimulatedBackend({
          agentName: config.AGENT_NAME,
          devices: config.SIM_DEVICES,
          profiles: config.SIM_PROFILES,
          timeScale: config.SIM_TIME_SCALE,
          faults: config.SIM_FAULTS,
          tags: config.SIM_TAGS,
          apiUrl: config.API_URL,
          ...(config.SIM_RETURN_MS !== undefined && { returnMs: config.SIM_RETURN_MS }),
        });
      case 'browser':
        return new BrowserBackend({
          agentName: config.AGENT_NAME,
          slots: config.BROWSER_SLOTS,
          inferenceUrl: config.INFERENCE_URL,
          apiUrl: config.API_URL,
          ...(config.BENCH_WEB_URL && { benchWebUrl: config.BENCH_WEB_URL }),
          chromiumPath: config.CHROMIUM_PATH,
          chromedriverPath: config.CHROMEDRIVER_PATH,
          tags: config.BROWSER_TAGS,
          log,
        });
      case 'android':
        return new AndroidBackend({
          adb: new Adb(config.ADB_PATH, config.ADB_TIMEOUT_MS),
          runner: config.ANDROID_RUNNER,
          ...(config.ANDROID_APK_COMPONENT && { apkComponent: config.ANDROID_APK_COMPONENT }),
          benchWeb: new BenchWebHost({ ...(config.BENCH_WEB_URL && { url: config.BENCH_WEB_URL }), log }),
          automationName: config.ANDROID_AUTOMATION_NAME,
          apiUrl: config.API_URL,
          inferenceUrl: config.INFERENCE_URL,
          minBatteryPct: config.ANDROID_MIN_BATTERY_PCT,
          maxTemperatureC: config.ANDROID_MAX_TEMPERATURE_C,
          cooldownMs: config.ANDROID_COOLDOWN_MS,
          sampleIntervalMs: config.ANDROID_SAMPLE_MS,
          currentUnit: config.ANDROID_CURRENT_UNIT,
          currentSign: config.ANDROID_CURRENT_SIGN,
          discoveryIntervalMs: config.ANDROID_DISCOVERY_MS,
          healthTtlMs: config.ANDROID_HEALTH_TTL_MS,
          tags: config.ANDROID_TAGS,
          log,
        });
    }
  });
}

async function main(): Promise<void> {
  const config = loadAgentConfig();
  const log = createLogger(config.LOG_LEVEL, `agent:${config.AGENT_NAME}`);
  const agent = new Agent(config, createBackends(config, log), log);
  await agent.start();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    log.info(`${signal}: finishing runs in progress (again to exit at once)`);
    agent.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
