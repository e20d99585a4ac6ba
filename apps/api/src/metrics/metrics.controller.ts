import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Access } from '../auth/access';
import { Registry } from 'prom-client';
import { MetricsService } from './metrics.service';

/** Prometheus scrapes `/metrics` (outside `/api`, as exporters serve it). */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  // Prometheus scrapes with a viewer token (`authorization: { credentials: <token> }` in its scrape config).
  @Access('read')
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
