import { apiKeyMatches, bearerToken, generateApiKey, hashApiKey, parseApiKey } from './api-key-format';
import { roleSatisfies } from './roles';
import { ROLES, type Role } from './auth.types';

describe('API key format', () => {
  it('generates keys that parse, hash stably and match only themselves', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^co_[a-z0-9]{8}_[A-Za-z0-9_-]{32}$/);
    expect(parseApiKey(a.key)).toEqual({ prefix: a.prefix });
    expect(a.hash).toBe(hashApiKey(a.key));
    expect(apiKeyMatches(a.key, a.hash)).toBe(true);
    expect(apiKeyMatches(b.key, a.hash)).toBe(false);
    expect(apiKeyMatches(a.key, 'abcd')).toBe(false);
  });

  it.each(['', 'co_', 'co_ABCDEFGH_xxxxxxxxxxxxxxxxxxxxxxxx', 'co_abcdefgh_short', 'xx_abcdefgh_aaaaaaaaaaaaaaaaaaaaaaaa'])(
    'rejects the malformed key %p',
    (key) => expect(parseApiKey(key)).toBeNull(),
  );

  it('reads a bearer token and nothing else', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc  ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('roles', () => {
  const table: Record<Role, Role[]> = {
    evaluator: ['evaluator', 'viewer', 'operator', 'admin'],
    viewer: ['viewer', 'operator', 'admin'],
    operator: ['operator', 'admin'],
    admin: ['admin'],
    alerter: ['alerter', 'operator', 'admin'],
  };
  it.each(ROLES.flatMap((required) => ROLES.map((actual) => [actual, required] as const)))(
    '%s satisfies %s as the table says',
    (actual, required) => expect(roleSatisfies(actual, required)).toBe(table[required].includes(actual)),
  );
});
