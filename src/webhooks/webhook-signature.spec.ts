import { createHmac } from 'node:crypto';
import { newWebhookSecret, signWebhook, verifyWebhookSignature } from './webhook-signature';

describe('webhook signatures', () => {
  const body = '{"id":"7","type":"campaign.halted"}';

  it('is HMAC-SHA256 of "<timestamp>.<body>" with the subscription secret', () => {
    const mac = createHmac('sha256', 'secret-0123456789').update(`1765000000.${body}`).digest('hex');
    expect(signWebhook('secret-0123456789', body, 1765000000)).toBe(`t=1765000000,v1=${mac}`);
  });

  it('verifies its own signature and refuses another secret, another body, a stale timestamp or garbage', () => {
    const secret = newWebhookSecret();
    const header = signWebhook(secret, body, 1000);
    expect(verifyWebhookSignature(secret, body, header, 1000)).toBe(true);
    expect(verifyWebhookSignature(newWebhookSecret(), body, header, 1000)).toBe(false);
    expect(verifyWebhookSignature(secret, body.replace('7', '8'), header, 1000)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, 1000 + 301)).toBe(false);
    for (const bad of [undefined, '', 't=1000', 'v1=00', 't=x,v1=zz', header.replace(/.$/, '')]) expect(verifyWebhookSignature(secret, body, bad, 1000)).toBe(false);
  });

  it('makes secrets that do not repeat', () => {
    expect(newWebhookSecret()).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    expect(newWebhookSecret()).not.toBe(newWebhookSecret());
  });
});
