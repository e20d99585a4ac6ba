-- CreateTable
CREATE TABLE "schedules" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "template" JSONB NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "baseline_nights" INTEGER NOT NULL,
    "webhook_url" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schedule_runs" (
    "schedule_id" UUID NOT NULL,
    "fire_time" TIMESTAMPTZ(3) NOT NULL,
    "job_id" UUID NOT NULL,
    "rerun_job_id" UUID,
    "analysed_at" TIMESTAMPTZ(3),
    "passing" BOOLEAN NOT NULL DEFAULT false,
    "baseline_reset" TEXT,
    "environment" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_runs_pkey" PRIMARY KEY ("schedule_id","fire_time")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "schedule_id" UUID NOT NULL,
    "fire_time" TIMESTAMPTZ(3) NOT NULL,
    "device_model" TEXT NOT NULL,
    "backend" "Backend" NOT NULL,
    "model" TEXT NOT NULL,
    "scenario" "Scenario" NOT NULL,
    "phase" "Phase" NOT NULL,
    "network" TEXT NOT NULL,
    "verdict" TEXT NOT NULL,
    "baseline_median" DOUBLE PRECISION NOT NULL,
    "baseline_n" INTEGER NOT NULL,
    "current_median" DOUBLE PRECISION NOT NULL,
    "current_n" INTEGER NOT NULL,
    "p" DOUBLE PRECISION NOT NULL,
    "shift_ms" DOUBLE PRECISION NOT NULL,
    "change_pct" DOUBLE PRECISION NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'new',
    "note" TEXT,
    "delivery_state" TEXT NOT NULL,
    "delivery_attempts" INTEGER NOT NULL DEFAULT 0,
    "deliver_after" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "schedules_name_key" ON "schedules"("name");

-- CreateIndex
CREATE INDEX "schedule_runs_analysed_at_idx" ON "schedule_runs"("analysed_at");

-- CreateIndex
CREATE UNIQUE INDEX "schedule_runs_job_id_key" ON "schedule_runs"("job_id");

-- CreateIndex
CREATE INDEX "alerts_delivery_state_deliver_after_idx" ON "alerts"("delivery_state", "deliver_after");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_schedule_id_fire_time_device_model_backend_model_sce_key" ON "alerts"("schedule_id", "fire_time", "device_model", "backend", "model", "scenario", "phase", "network");

-- AddForeignKey
ALTER TABLE "schedule_runs" ADD CONSTRAINT "schedule_runs_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedules"("id") ON DELETE CASCADE ON UPDATE CASCADE;
