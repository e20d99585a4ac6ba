import { ConfigError } from '@farm/contracts';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { TokensService } from './auth/tokens.service';
import { createApi } from './bootstrap';
import { loadApiConfig } from './config/config';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const app = await createApi(config);
  const first = await app.get(TokensService).bootstrap();
  await app.listen(config.PORT, config.HOST);
  const url = `http://${config.HOST}:${((app.getHttpServer() as Server).address() as AddressInfo | null)?.port ?? config.PORT}`;
  new Logger('Api').log(`listening on ${url} (docs at /api/docs)`);
  // Shown once, whatever the log level, as the only way into a new farm.
  if (first) {
    console.log(
      `\nNo API token existed, so an admin token was made. It is shown this once; keep it:\n\n    ${first.token}\n\n` +
        `Sign in to the dashboard at ${url}/ with it, or send it as "Authorization: Bearer <token>".\n` +
        'More tokens: npm run token -- create --role admin|operator|viewer|agent\n',
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
