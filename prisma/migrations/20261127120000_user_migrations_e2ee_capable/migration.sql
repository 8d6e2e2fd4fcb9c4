-- A copy of users.e2ee_capable on each migration row, read by the range claim instead of a
-- users lookup per user (docs/architecture.md). Kept in step by every write of a user
-- capability (PATCH, import) and by the reassess job. Adding a column with a constant
-- default does not rewrite the table, only the rows of incapable users are updated here.
ALTER TABLE "user_migrations" ADD COLUMN "e2ee_capable" BOOLEAN NOT NULL DEFAULT true;

UPDATE "user_migrations" um SET "e2ee_capable" = false
FROM "users" u WHERE u."id" = um."user_id" AND NOT u."e2ee_capable";
