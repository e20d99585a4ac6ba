import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApi, openApiDocument } from '../apps/api/src/bootstrap';
import { loadApiConfig } from '../apps/api/src/config/config';

export const OPENAPI_PATH = path.resolve(__dirname, '..', 'apps', 'api', 'openapi.json');

/** The API's OpenAPI document as committed: stable key order, two-space indent, final newline. */
export async function renderOpenApi(): Promise<string> {
  const app = await createApi({ ...loadApiConfig(), LOG_LEVEL: 'error' });
  try {
    return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  renderOpenApi().then(
    (text) => {
      writeFileSync(OPENAPI_PATH, text);
      console.log(`wrote ${path.relative(process.cwd(), OPENAPI_PATH)}`);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
