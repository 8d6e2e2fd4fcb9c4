/** Types of format.js (plain browser JavaScript) for its unit test. */
export function duration(seconds: number | null | undefined): string;
export function hold(minutes: number): string;
export function step(index: number, count: number): string;
export function time(iso: string | null | undefined, opts?: { locale?: string; timeZone?: string }): { text: string; iso: string };
export function count(n: number | null | undefined): string;
export function compact(n: number): string;
export function percent(r: number | null | undefined): string;
export function rate(r: number | null | undefined): string;
export function ppm(p: number): string;
