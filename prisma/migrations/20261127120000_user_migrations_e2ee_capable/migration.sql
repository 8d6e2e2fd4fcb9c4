-- A copy of users.e2ee_capable on each migration row, read by the range claim instead of a
-- users lookup per user (docs/architecture.md). Kept in step by every write of a user
-- capability (PATCH, import) and by the reassess job.
-- Schema only, like every migration (docs/contributing.md, Expand, backfill, contract): a
-- nullable column without a default is a catalog change at any table size. NULL means not
-- copied yet, and the claim reads users for such a row. The workers fill the column in
-- chunks: the data backfill user_migrations.e2ee_capable (migration 20261207200000).
ALTER TABLE "user_migrations" ADD COLUMN "e2ee_capable" BOOLEAN;
