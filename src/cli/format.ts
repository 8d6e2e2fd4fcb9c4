/** How the CLI writes durations, times and ramp steps in its text output (--json keeps the API's values). */

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Compact, two units at most ("2h05m"). Each branch rounds to its smaller unit before it
 * splits, so a rounded-up remainder carries: 86,399 s is "1d", never "23h60m".
 */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  const m = Math.round(seconds / 60);
  if (m < 1440) return `${Math.floor(m / 60)}h${pad(m % 60)}m`;
  const h = Math.round(seconds / 3600);
  return h % 24 === 0 ? `${h / 24}d` : `${Math.floor(h / 24)}d${h % 24}h`;
}

/** "step 2 of 4": people count steps from 1; the API's step fields are 0-based indexes. */
export function stepOf(index: number, count: number): string {
  return `step ${index + 1} of ${count}`;
}

/** "2026-11-26 13:00:05 CET": the local time of this process, with its zone. */
export function localTime(iso: string | null | undefined, timeZone?: string): string | null {
  if (iso === null || iso === undefined) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-GB', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short', timeZone,
  }).formatToParts(d);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}
