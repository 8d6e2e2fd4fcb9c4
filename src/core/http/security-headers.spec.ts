import { staticSecurityHeaders } from './security-headers';

describe('staticSecurityHeaders', () => {
  it('is what helmet sets with our options: the browser hardening headers, no CSP', () => {
    const h = staticSecurityHeaders();
    expect(h).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-permitted-cross-domain-policies': 'none',
    });
    expect(h['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(h['content-security-policy']).toBeUndefined();
    expect(Object.keys(h).every((k) => k === k.toLowerCase())).toBe(true);
    expect(Object.isFrozen(h)).toBe(true);
  });
});
