import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { QueueBoardService } from './admin/queue-board.service';
import { AnalysisController } from './analysis/analysis.controller';
import { AnalysisService } from './analysis/analysis.service';
import { AgentsController } from './agents/agents.controller';
import { AgentsService } from './agents/agents.service';
import { AuthGuard } from './auth/auth.guard';
import { PolicyCheck } from './auth/policy-check';
import { RateLimiter } from './auth/rate-limiter';
import { SessionController, TokensController } from './auth/tokens.controller';
import { TokensService } from './auth/tokens.service';
import { ApiErrorFilter } from './common/errors';
import { API_CONFIG, type ApiConfig } from './config/config';
import { DevicesController } from './devices/devices.controller';
import { DevicesService } from './devices/devices.service';
import { DispatchService } from './dispatch/dispatch.service';
import { ReaperService } from './dispatch/reaper.service';
import { FarmEventsController } from './events/farm-events.controller';
import { FarmEventsService } from './events/farm-events.service';
import { JobEventsController } from './events/job-events.controller';
import { JobEventsService } from './events/job-events.service';
import { ExportController } from './export/export.controller';
import { ExportService } from './export/export.service';
import { HealthController } from './health/health.controller';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { ModelsController } from './models/models.controller';
import { ModelsService } from './models/models.service';
import { PrismaService } from './prisma/prisma.service';
import { RedisService } from './redis/redis';
import { RunLifecycleService } from './runs/run-lifecycle.service';
import { RunsRepository } from './runs/runs.repository';
import { AlertsService } from './regressions/alerts.service';
import { NightsService } from './regressions/nights.service';
import { RegressionsController } from './regressions/regressions.controller';
import { WebhookService } from './regressions/webhook.service';
import { Clock } from './schedules/clock';
import { SchedulerQueue } from './schedules/scheduler.queue';
import { SchedulerWorker } from './schedules/scheduler.worker';
import { SchedulesController } from './schedules/schedules.controller';
import { SchedulesService } from './schedules/schedules.service';
import { Stopping } from './common/stopping';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false }), DiscoveryModule],
      controllers: [JobsController, AnalysisController, DevicesController, AgentsController, HealthController, ModelsController, ExportController, JobEventsController,
        FarmEventsController,
        SchedulesController,
        RegressionsController,
        MetricsController,
        TokensController,
        SessionController,
      ],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
        { provide: APP_GUARD, useClass: AuthGuard },
        Stopping,
        PolicyCheck,
        RateLimiter,
        TokensService,
        PrismaService,
        RedisService,
        DispatchService,
        MetricsService,
        ReaperService,
        RunsRepository,
        RunLifecycleService,
        ModelsService,
        JobsService,
        AnalysisService,
        DevicesService,
        AgentsService,
        ExportService,
        JobEventsService,
        FarmEventsService,
        QueueBoardService,
        Clock,
        SchedulerQueue,
        SchedulesService,
        SchedulerWorker,
        AlertsService,
        WebhookService,
        NightsService,
      ],
    };
  }
}
