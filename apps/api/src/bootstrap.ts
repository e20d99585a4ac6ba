import 'reflect-metadata';
import { type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { json } from 'express';
import { AppModule } from './app.module';
import type { ApiConfig } from './config/config';

/** Builds the API application (not yet listening): used by main, the tests and the OpenAPI export. */
export async function createApi(config: ApiConfig, logger?: LoggerService | false): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: logger ?? undefined, bodyParser: false });
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
