/* Cutover dashboard: how numbers, durations and times are written. A browser global
   (CutoverFormat) for app.js, and a CommonJS module for its unit test. */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.CutoverFormat = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  function pair(big, bigUnit, small, smallUnit) {
    return small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
  }

  /**
   * Two units at most ("1 h 5 min"). Each branch rounds to its smaller unit before it splits,
   * so a rounded-up remainder carries into the larger unit: 86,399 s is "1 d", not "23 h 60 min".
   */
  function duration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return pair(Math.floor(s / 60), 'min', s % 60, 's');
    const m = Math.round(seconds / 60);
    if (m < 1440) return pair(Math.floor(m / 60), 'h', m % 60, 'min');
    const h = Math.round(seconds / 3600);
    return pair(Math.floor(h / 24), 'd', h % 24, 'h');
  }

  /** A ramp step's hold, given in (possibly fractional) minutes. */
  function hold(minutes) {
    return minutes > 0 ? duration(minutes * 60) : 'none';
  }

  /** "step 2 of 4": people count steps from 1; the API's step fields are 0-based indexes. */
  function step(index, count) {
    return `step ${index + 1} of ${count}`;
  }

  const TIME = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' };

  /** Local time with its zone; `iso` stays available for a title (hover). */
  function time(iso, opts) {
    const d = new Date(iso);
    if (iso === null || iso === undefined || Number.isNaN(d.getTime())) return { text: '—', iso: '' };
    return { text: new Intl.DateTimeFormat(opts && opts.locale, { ...TIME, timeZone: opts && opts.timeZone }).format(d), iso: d.toISOString() };
  }

  const nf = new Intl.NumberFormat('en-US');
  const compactNf = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const count = (n) => (n === null || n === undefined ? '—' : nf.format(Math.round(n)));
  const compact = (n) => compactNf.format(n);
  const percent = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(r < 0.01 && r > 0 ? 3 : 1)}%`);
  const rate = (r) => (r === null || r === undefined ? '—' : `${r >= 100 ? nf.format(Math.round(r)) : r.toFixed(1)}/s`);
  const ppm = (p) => `${(p / 10000).toFixed(p % 10000 === 0 ? 0 : 2)}%`;

  return { duration, hold, step, time, count, compact, percent, rate, ppm };
});
