-- Data backfills run by the workers after a schema change (expand, backfill, contract). Each
-- row records how far its backfill got, so that it resumes where it stopped.
CREATE TABLE "data_backfills" (
    "name" TEXT NOT NULL,
    "last_campaign_id" BIGINT NOT NULL DEFAULT -9223372036854775808,
    "last_user_id" BIGINT NOT NULL DEFAULT -9223372036854775808,
    "rows_done" BIGINT NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "data_backfills_pkey" PRIMARY KEY ("name")
);

-- An installation that applied 20261127120000 before it became schema only has the column
-- NOT NULL and already filled in (that version copied it in one UPDATE): its backfill is
-- recorded as done. Elsewhere the column is nullable and the workers fill it.
INSERT INTO "data_backfills" ("name", "finished_at")
SELECT 'user_migrations.e2ee_capable', CASE WHEN a.attnotnull THEN CURRENT_TIMESTAMP END
FROM pg_attribute a
WHERE a.attrelid = '"user_migrations"'::regclass AND a.attname = 'e2ee_capable';

-- Both kinds of installation end with the same column (a catalog change, and a no-op where
-- the column is nullable already).
ALTER TABLE "user_migrations" ALTER COLUMN "e2ee_capable" DROP NOT NULL,
ALTER COLUMN "e2ee_capable" DROP DEFAULT;
