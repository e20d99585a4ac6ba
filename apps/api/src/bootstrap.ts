import 'reflect-metadata';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { json, static as serveStatic, type RequestHandler } from 'express';
import { QUEUE_BOARD_PATH, QueueBoardService } from './admin/queue-board.service';
import { AppModule } from './app.module';
import { Stopping } from './common/stopping';
import { requireAccess } from './auth/auth.guard';
import { SESSION_COOKIE } from './auth/session-cookie';
import { TokensService } from './auth/tokens.service';
import type { ApiConfig } from './config/config';
import { createLogger, PinoNestLogger, requestLogger } from './logging/logger';

/** Builds the API application (not yet listening): used by main, the tests and the OpenAPI export. */
export async function createApi(config: ApiConfig): Promise<INestApplication> {
  const logger = createLogger(config.LOG_LEVEL);
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: new PinoNestLogger(logger), bodyParser: false });
  app.use(app.get(Stopping).middleware());
  app.use(requestLogger(logger));
  app.use(jsonBodies(config));
  // Operators' view of the queues, behind the same tokens as the API.
  app.use(QUEUE_BOARD_PATH, requireAccess('operate', app.get(TokensService)), ...app.get(QueueBoardService).handlers());
  for (const handler of await dashboard()) app.use(handler);
  // Prometheus scrapes /metrics, where exporters serve it.
  app.setGlobalPrefix('api', { exclude: ['metrics'] });
  app.enableShutdownHooks();
  SwaggerModule.setup('api/docs', app, () => openApiDocument(app), { jsonDocumentUrl: 'api/docs/openapi.json' });
  return app;
}

export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Mobile inference farm')
    .setDescription('Benchmark jobs of CNNs on phones, on-device and in the cloud, per phase, with energy.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'farm_<43 base64url characters>', description: 'An API token (`npm run token -- create --role <role>`)' })
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', description: 'The session the dashboard signs in to (POST /api/session)' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Agents' report batches carry a few thousand rows; every other body is small. */
const REPORTS_PATH = /^\/api\/agents\/[^/]+\/reports$/;

function jsonBodies(config: ApiConfig): RequestHandler {
  const reports = json({ limit: config.REPORT_BODY_LIMIT_BYTES });
  const others = json({ limit: config.BODY_LIMIT_BYTES });
  return (req, res, next) => (REPORTS_PATH.test(req.path) ? reports : others)(req, res, next);
}

const DASHBOARD_BUILD = path.resolve(__dirname, '..', '..', 'dashboard', 'build.ts');

/**
 * The dashboard at `/`: its build (made first when the sources changed; the script prints its
 * folder), then index.html for any other page path, so a reload of /jobs/<id> works. Nothing
 * under /api or Bull Board's path is ever answered here.
 */
async function dashboard(): Promise<RequestHandler[]> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', require.resolve('@swc-node/register'), DASHBOARD_BUILD], { timeout: 300_000 });
    const dir = stdout.trim().split('\n').pop() ?? '';
    const reserved = new RegExp(`^(/api|/metrics|${QUEUE_BOARD_PATH})(/|$)`);
    const outsideApi = (url: string): boolean => !reserved.test(url);
    const assets = serveStatic(dir, { index: false, maxAge: '1y', immutable: true });
    return [
      (req, res, next) => {
        if (outsideApi(req.path)) void assets(req, res, next);
        else next();
      },
      (req, res, next) => {
        if ((req.method !== 'GET' && req.method !== 'HEAD') || !outsideApi(req.path) || !req.accepts('html')) return next();
        res.setHeader('Cache-Control', 'no-cache');
        res.sendFile(path.join(dir, 'index.html'));
      },
    ];
  } catch (error) {
    // The API serves its clients without the dashboard rather than not at all.
    new Logger('Dashboard').error(`not served: its build failed: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}
