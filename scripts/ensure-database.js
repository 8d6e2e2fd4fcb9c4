// Creates the database named in DATABASE_URL when it does not exist yet.
const { Client } = require('pg');

async function main() {
  const url = new URL(process.env.DATABASE_URL);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error('database name must be letters, digits and _');
  url.pathname = '/postgres';
  const c = new Client({ connectionString: url.toString() });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) {
      await c.query(`CREATE DATABASE "${name}"`);
      process.stderr.write(`[cutover] created database ${name}\n`);
    }
  } finally {
    await c.end();
  }
}

main().catch((err) => {
  process.stderr.write(`[cutover] cannot prepare the database: ${err.message}\n`);
  process.exit(1);
});
