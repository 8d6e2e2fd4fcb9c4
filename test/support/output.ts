import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where tests leave files for people to look at (screenshots): `test-results/`, or CUTOVER_TEST_OUTPUT. */
export function testOutputPath(...parts: string[]): string {
  const dir = resolve(process.env.CUTOVER_TEST_OUTPUT ?? join(__dirname, '../../test-results'));
  const path = join(dir, ...parts);
  mkdirSync(resolve(path, '..'), { recursive: true });
  return path;
}
