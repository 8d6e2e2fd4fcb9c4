import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

function pgConfig() {
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://localhost/postgres');
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  };
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  adapter: async () => new PrismaPg(pgConfig()),
});
