// k6 provides `console` (log, info, warn, error, debug) in every context; @types/k6 does not
// declare it and the DOM library would declare far more than k6 has.
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
};
