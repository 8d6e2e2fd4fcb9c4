-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "api_key_role" AS ENUM ('viewer', 'operator', 'admin', 'evaluator');

-- CreateEnum
CREATE TYPE "campaign_status" AS ENUM ('draft', 'running', 'paused', 'halted', 'completed');

-- CreateEnum
CREATE TYPE "migration_state" AS ENUM ('legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held');

-- CreateEnum
CREATE TYPE "recovery_state" AS ENUM ('none', 'prompted', 'set');

-- CreateEnum
CREATE TYPE "recovery_method" AS ENUM ('pin', 'recovery_code', 'cloud_backup', 'device_keychain');

-- CreateEnum
CREATE TYPE "enrolled_via" AS ENUM ('opt_in', 'ramp');

-- CreateEnum
CREATE TYPE "batch_status" AS ENUM ('queued', 'running', 'done', 'dropped');

-- CreateTable
CREATE TABLE "api_keys" (
    "id" BIGSERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "role" "api_key_role" NOT NULL,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT NOT NULL,
    "actor_role" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "reason" TEXT,
    "request_id" TEXT,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "flags" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "kind" TEXT NOT NULL,
    "variants" JSONB NOT NULL,
    "off_variant" TEXT NOT NULL,
    "rules" JSONB NOT NULL DEFAULT '[]',
    "rollout_ppm" INTEGER NOT NULL DEFAULT 0,
    "rollout_variant" TEXT NOT NULL,
    "salt" TEXT NOT NULL,
    "hash_version" INTEGER NOT NULL DEFAULT 1,
    "killed" BOOLEAN NOT NULL DEFAULT false,
    "kill_reason" TEXT,
    "killed_at" TIMESTAMPTZ(3),
    "archived_at" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flags_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "flag_id" BIGINT NOT NULL,
    "status" "campaign_status" NOT NULL DEFAULT 'draft',
    "population_filter" JSONB NOT NULL DEFAULT '{}',
    "pacing" JSONB NOT NULL,
    "ramp_plan" JSONB NOT NULL DEFAULT '[]',
    "guardrails" JSONB NOT NULL DEFAULT '[]',
    "current_step" INTEGER NOT NULL DEFAULT -1,
    "step_entered_at" TIMESTAMPTZ(3),
    "approved_step" INTEGER NOT NULL DEFAULT -1,
    "admitted_ppm" INTEGER NOT NULL DEFAULT 0,
    "planned_ppm" INTEGER NOT NULL DEFAULT 0,
    "pace_users_per_second" INTEGER NOT NULL DEFAULT 0,
    "guardrail_state" JSONB NOT NULL DEFAULT '{}',
    "materialize_cursor" BIGINT,
    "materialized_at" TIMESTAMPTZ(3),
    "population_size" BIGINT NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "halted_at" TIMESTAMPTZ(3),
    "halt_reason" TEXT,
    "halt_to_last_commit_ms" INTEGER,
    "last_enabled_at" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" BIGINT NOT NULL,
    "country" CHAR(2) NOT NULL,
    "platform" TEXT NOT NULL,
    "app_version" TEXT NOT NULL,
    "e2ee_capable" BOOLEAN NOT NULL,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "user_migrations" (
    "campaign_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "bucket" INTEGER NOT NULL,
    "state" "migration_state" NOT NULL DEFAULT 'legacy',
    "attempts" SMALLINT NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "enrolled_via" "enrolled_via",
    "enrolled_step" SMALLINT,
    "flag_version" INTEGER,
    "hold_id" BIGINT,
    "recovery_state" "recovery_state" NOT NULL DEFAULT 'none',
    "recovery_method" "recovery_method",
    "admitted_at" TIMESTAMPTZ(3),
    "enabled_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_migrations_pkey" PRIMARY KEY ("campaign_id","user_id")
);

-- CreateTable
CREATE TABLE "progress_counters" (
    "campaign_id" BIGINT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "legacy" BIGINT NOT NULL DEFAULT 0,
    "ineligible" BIGINT NOT NULL DEFAULT 0,
    "eligible" BIGINT NOT NULL DEFAULT 0,
    "enrolling" BIGINT NOT NULL DEFAULT 0,
    "enabled" BIGINT NOT NULL DEFAULT 0,
    "failed" BIGINT NOT NULL DEFAULT 0,
    "held" BIGINT NOT NULL DEFAULT 0,
    "recovery_prompted" BIGINT NOT NULL DEFAULT 0,
    "recovery_pin" BIGINT NOT NULL DEFAULT 0,
    "recovery_code" BIGINT NOT NULL DEFAULT 0,
    "recovery_cloud" BIGINT NOT NULL DEFAULT 0,
    "recovery_keychain" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "progress_counters_pkey" PRIMARY KEY ("campaign_id","shard")
);

-- CreateTable
CREATE TABLE "bucket_histograms" (
    "campaign_id" BIGINT NOT NULL,
    "bin" SMALLINT NOT NULL,
    "total" BIGINT NOT NULL DEFAULT 0,
    "capable" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "bucket_histograms_pkey" PRIMARY KEY ("campaign_id","bin")
);

-- CreateTable
CREATE TABLE "progress_samples" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "resolution" TEXT NOT NULL DEFAULT 'raw',
    "legacy" BIGINT NOT NULL DEFAULT 0,
    "ineligible" BIGINT NOT NULL DEFAULT 0,
    "eligible" BIGINT NOT NULL DEFAULT 0,
    "enrolling" BIGINT NOT NULL DEFAULT 0,
    "enabled" BIGINT NOT NULL DEFAULT 0,
    "failed" BIGINT NOT NULL DEFAULT 0,
    "held" BIGINT NOT NULL DEFAULT 0,
    "throughput_per_second" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "pace_users_per_second" INTEGER NOT NULL DEFAULT 0,
    "admitted_ppm" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "progress_samples_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "migration_batches" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "from_bucket" INTEGER NOT NULL,
    "to_bucket" INTEGER NOT NULL,
    "user_ids" BIGINT[] DEFAULT ARRAY[]::BIGINT[],
    "status" "batch_status" NOT NULL DEFAULT 'queued',
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "claimed" INTEGER NOT NULL DEFAULT 0,
    "enabled" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "retried" INTEGER NOT NULL DEFAULT 0,
    "backend_ms" INTEGER,
    "backend_errors" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "migration_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "holds" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "filter" JSONB NOT NULL,
    "reason" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "released_at" TIMESTAMPTZ(3),
    "held_count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "holds_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE INDEX "audit_events_entity_type_entity_id_id_idx" ON "audit_events"("entity_type", "entity_id", "id");

-- CreateIndex
CREATE INDEX "audit_events_action_id_idx" ON "audit_events"("action", "id");

-- CreateIndex
CREATE UNIQUE INDEX "flags_key_key" ON "flags"("key");

-- CreateIndex
CREATE UNIQUE INDEX "campaigns_key_key" ON "campaigns"("key");

-- CreateIndex
CREATE INDEX "campaigns_flag_id_idx" ON "campaigns"("flag_id");

-- CreateIndex
CREATE INDEX "user_migrations_campaign_id_bucket_idx" ON "user_migrations"("campaign_id", "bucket");

-- CreateIndex
CREATE INDEX "progress_samples_campaign_id_resolution_at_idx" ON "progress_samples"("campaign_id", "resolution", "at");

-- CreateIndex
CREATE INDEX "migration_batches_campaign_id_status_id_idx" ON "migration_batches"("campaign_id", "status", "id");

-- CreateIndex
CREATE INDEX "migration_batches_campaign_id_finished_at_idx" ON "migration_batches"("campaign_id", "finished_at");

-- CreateIndex
CREATE INDEX "holds_campaign_id_released_at_idx" ON "holds"("campaign_id", "released_at");

-- AddForeignKey
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_flag_id_fkey" FOREIGN KEY ("flag_id") REFERENCES "flags"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written: leave room on each page so that state changes are HOT updates (no index
-- covers a mutable column), and vacuum the hot tables more eagerly than the default.
ALTER TABLE "user_migrations" SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE "progress_counters" SET (fillfactor = 50);
ALTER TABLE "users" SET (fillfactor = 90);
