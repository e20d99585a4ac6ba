import { ConfigError } from '@farm/contracts';
import { Logger } from '@nestjs/common';
import { createApi } from './bootstrap';
import { loadApiConfig } from './config/config';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const app = await createApi(config);
  await app.listen(config.PORT, config.HOST);
  new Logger('Api').log(`listening on http://${config.HOST}:${config.PORT} (docs at /api/docs)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
