import { readFileSync } from 'node:fs';
import { OPENAPI_PATH, renderOpenApi } from '../../../scripts/openapi';

describe('the committed OpenAPI document', () => {
  it('matches the API (run `npm run openapi` after changing a route or a schema)', async () => {
    const generated = await renderOpenApi();
    expect(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'))).toEqual(JSON.parse(generated));
  });

  it('keeps the public core shapes of the design', async () => {
    const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, unknown>> };
    for (const route of ['/api/jobs', '/api/jobs/{id}', '/api/jobs/{id}/cancel', '/api/jobs/{id}/summary', '/api/jobs/{id}/measurements', '/api/devices', '/api/agents', '/api/health']) {
      expect(Object.keys(doc.paths)).toContain(route);
    }
  });
});
