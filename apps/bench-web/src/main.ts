import { ConfigError, envInt, parseEnv } from '@farm/contracts';
import { z } from 'zod';
import { startBenchWebServer } from './server';

const EnvSchema = z.object({
  PORT: envInt(0, 65535).default(3200),
  HOST: z.string().min(1).default('0.0.0.0'),
  MODELS_CACHE_DIR: z.string().min(1).optional(),
});

async function main(): Promise<void> {
  const env = parseEnv(EnvSchema);
  const server = await startBenchWebServer({ port: env.PORT, host: env.HOST, ...(env.MODELS_CACHE_DIR ? { modelsCacheDir: env.MODELS_CACHE_DIR } : {}) });
  console.log(`bench-web ${server.build.version} at ${server.url}`);
  const stop = (): void => void server.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
