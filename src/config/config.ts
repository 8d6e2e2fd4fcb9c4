import { envSchema, toAppConfig, type AppConfig } from './config.schema';

export const APP_CONFIG = Symbol('APP_CONFIG');

export class InvalidConfigError extends Error {}

/** Parses the environment once. Names each bad variable, never its value. */
export function parseConfig(source: Record<string, string | undefined>): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new InvalidConfigError(`Invalid environment:\n  ${lines.join('\n  ')}`);
  }
  return toAppConfig(parsed.data);
}

/** The one place that reads process.env; exits with code 1 on invalid config. */
export function loadConfigOrExit(): AppConfig {
  try {
    // eslint-disable-next-line no-restricted-properties -- the single allowed reader
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof InvalidConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
