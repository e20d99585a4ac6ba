-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Backend" AS ENUM ('android', 'browser', 'simulated');

-- CreateEnum
CREATE TYPE "AgentState" AS ENUM ('online', 'offline');

-- CreateEnum
CREATE TYPE "DeviceState" AS ENUM ('available', 'leased', 'offline', 'quarantined');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('queued', 'running', 'finished', 'cancelled');

-- CreateEnum
CREATE TYPE "Scenario" AS ENUM ('on_device', 'cloud');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('queued', 'preparing', 'running', 'uploading', 'finished');

-- CreateEnum
CREATE TYPE "RunResult" AS ENUM ('passed', 'failed', 'errored', 'cancelled', 'timed_out');

-- CreateEnum
CREATE TYPE "Phase" AS ENUM ('model_load', 'preprocess', 'inference', 'postprocess', 'upload', 'server', 'server_preprocess', 'server_inference', 'server_postprocess', 'download', 'total');

-- CreateEnum
CREATE TYPE "EnergyMethod" AS ENUM ('battery_current_sampling', 'odpm_rails', 'battery_capacity_delta', 'rapl', 'cpu_time_model', 'simulated', 'none');

-- CreateTable
CREATE TABLE "agents" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "backends" "Backend"[],
    "state" "AgentState" NOT NULL DEFAULT 'online',
    "session" UUID NOT NULL,
    "last_heartbeat_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices" (
    "id" UUID NOT NULL,
    "backend" "Backend" NOT NULL,
    "serial" TEXT NOT NULL,
    "agent_id" UUID NOT NULL,
    "manufacturer" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "os_version" TEXT NOT NULL,
    "soc" TEXT,
    "ram_mb" INTEGER,
    "tags" TEXT[],
    "properties" JSONB NOT NULL DEFAULT '{}',
    "state" "DeviceState" NOT NULL DEFAULT 'available',
    "battery_pct" DOUBLE PRECISION,
    "temperature_c" DOUBLE PRECISION,
    "charging" BOOLEAN,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'queued',
    "priority" INTEGER NOT NULL,
    "iterations" INTEGER NOT NULL,
    "warmup" INTEGER NOT NULL,
    "network" TEXT NOT NULL,
    "max_attempts" INTEGER NOT NULL,
    "deadline_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "scenario" "Scenario" NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'queued',
    "result" "RunResult",
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "error_kind" TEXT,
    "error_message" TEXT,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "measurements" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "iteration" INTEGER NOT NULL,
    "warmup" BOOLEAN NOT NULL,
    "phase" "Phase" NOT NULL,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "energy_mj" DOUBLE PRECISION,
    "energy_method" "EnergyMethod" NOT NULL,

    CONSTRAINT "measurements_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "agents_name_key" ON "agents"("name");

-- CreateIndex
CREATE INDEX "agents_state_last_heartbeat_at_idx" ON "agents"("state", "last_heartbeat_at");

-- CreateIndex
CREATE INDEX "devices_agent_id_idx" ON "devices"("agent_id");

-- CreateIndex
CREATE UNIQUE INDEX "devices_backend_serial_key" ON "devices"("backend", "serial");

-- CreateIndex
CREATE INDEX "jobs_status_created_at_idx" ON "jobs"("status", "created_at");

-- CreateIndex
CREATE INDEX "jobs_created_at_idx" ON "jobs"("created_at");

-- CreateIndex
CREATE INDEX "runs_job_id_status_idx" ON "runs"("job_id", "status");

-- CreateIndex
CREATE INDEX "runs_device_id_status_idx" ON "runs"("device_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "runs_job_id_device_id_model_scenario_key" ON "runs"("job_id", "device_id", "model", "scenario");

-- CreateIndex
CREATE INDEX "measurements_run_id_phase_idx" ON "measurements"("run_id", "phase");

-- CreateIndex
CREATE UNIQUE INDEX "measurements_run_id_attempt_iteration_phase_key" ON "measurements"("run_id", "attempt", "iteration", "phase");

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "measurements" ADD CONSTRAINT "measurements_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
