import { adminQuery } from './test-env';

export default async function globalTeardown(): Promise<void> {
  const tpl = process.env.CUTOVER_TEST_TEMPLATE;
  if (tpl) await adminQuery(`DROP DATABASE IF EXISTS ${tpl} WITH (FORCE)`).catch(() => undefined);
}
