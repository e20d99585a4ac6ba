import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult, type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { PrismaService } from '../prisma/prisma.service';
import { RedisService } from '../redis/redis';
import { Access } from '../auth/access';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
  ) {}

  @Get()
  @Access('public')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness of the API and its PostgreSQL and Redis' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.probe('db', () => this.prisma.$queryRawUnsafe('SELECT 1')),
      () => this.probe('redis', () => this.redis.client.ping()),
    ]);
  }

  private async probe(name: string, call: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const check = this.indicator.check(name);
    const started = performance.now();
    try {
      await withTimeout(call(), 2_000);
      return check.up({ latencyMs: Math.round((performance.now() - started) * 10) / 10 });
    } catch (error) {
      return check.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
