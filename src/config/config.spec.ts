import { parseConfig, InvalidConfigError } from './config';

const valid = { DATABASE_URL: 'postgresql://u:secretpw@localhost:5432/db', REDIS_URL: 'redis://localhost:6379' };

describe('parseConfig', () => {
  it('builds a typed, nested config with defaults', () => {
    const c = parseConfig(valid);
    expect(c.http.port).toBe(3000);
    expect(c.database.poolSize).toBe(10);
    expect(c.database.poolTimeoutMs).toBe(30_000);
    expect(c.redis.prefix).toBe('cutover');
    expect(c.http.corsOrigins).toEqual([]);
  });

  it('names every bad variable and never prints a value', () => {
    let message = '';
    try {
      parseConfig({ DATABASE_URL: 'not a url secretpw', HTTP_PORT: '99999', LOG_LEVEL: 'loud' });
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('REDIS_URL');
    expect(message).toContain('HTTP_PORT');
    expect(message).toContain('LOG_LEVEL');
    expect(message).not.toContain('secretpw');
    expect(message).not.toContain('loud');
  });

  it('treats empty variables as unset and splits the CORS list', () => {
    const c = parseConfig({ ...valid, HTTP_PORT: '', HTTP_CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(c.http.port).toBe(3000);
    expect(c.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});
