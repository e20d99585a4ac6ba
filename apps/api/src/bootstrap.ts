import 'reflect-metadata';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Logger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { json, static as serveStatic, type RequestHandler } from 'express';
import { AppModule } from './app.module';
import { SESSION_COOKIE } from './auth/session-cookie';
import type { ApiConfig } from './config/config';

/** Builds the API application (not yet listening): used by main, the tests and the OpenAPI export. */
export async function createApi(config: ApiConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: nestLogLevels(config.LOG_LEVEL), bodyParser: false });
  app.use(jsonBodies(config));
  for (const handler of await dashboard()) app.use(handler);
  app.setGlobalPrefix('api');
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
 * under /api is ever answered here.
 */
async function dashboard(): Promise<RequestHandler[]> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', require.resolve('@swc-node/register'), DASHBOARD_BUILD], { timeout: 300_000 });
    const dir = stdout.trim().split('\n').pop() ?? '';
    const outsideApi = (url: string): boolean => !/^\/api(\/|$)/.test(url);
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

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const FROM_CONFIG: Record<ApiConfig['LOG_LEVEL'], number> = { silent: 0, fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 };

function nestLogLevels(level: ApiConfig['LOG_LEVEL']): LogLevel[] | false {
  const count = FROM_CONFIG[level];
  return count === 0 ? false : LEVELS.slice(0, count);
}
