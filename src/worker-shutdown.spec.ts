import { signalAction } from './worker-shutdown';

describe('signalAction', () => {
  it('stops on the first signal, whichever it is', () => {
    expect(signalAction(undefined, 'SIGTERM')).toBe('stop');
    expect(signalAction(undefined, 'SIGINT')).toBe('stop');
  });

  it('exits at once on the same signal again (Ctrl-C twice, a second SIGTERM)', () => {
    expect(signalAction('SIGINT', 'SIGINT')).toBe('exit-now');
    expect(signalAction('SIGTERM', 'SIGTERM')).toBe('exit-now');
  });

  it('keeps draining when the other signal follows (Ctrl-C to the group, then the launcher\'s SIGTERM)', () => {
    expect(signalAction('SIGINT', 'SIGTERM')).toBe('already-stopping');
    expect(signalAction('SIGTERM', 'SIGINT')).toBe('already-stopping');
  });
});
