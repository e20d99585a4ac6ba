import 'reflect-metadata';
import { type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { json } from 'express';
import { AppModule } from './app.module';
import type { ApiConfig } from './config/config';

/** Builds the API application (not yet listening): used by main, the tests and the OpenAPI export. */
export async function createApi(config: ApiConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: nestLogLevels(config.LOG_LEVEL), bodyParser: false });
  // Agents upload measurement batches of a few thousand rows at once.
  app.use(json({ limit: '8mb' }));
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
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const FROM_CONFIG: Record<ApiConfig['LOG_LEVEL'], number> = { silent: 0, fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 };

function nestLogLevels(level: ApiConfig['LOG_LEVEL']): LogLevel[] | false {
  const count = FROM_CONFIG[level];
  return count === 0 ? false : LEVELS.slice(0, count);
}
