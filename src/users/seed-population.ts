/**
 * The shape of a synthetic population, as SQL expressions over uniform numbers r1..r5 in
 * [0,1) derived from hash(seed, id): the same seed and id always give the same user.
 */
const COUNTRY_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['IN', 16], ['BR', 9], ['ID', 7], ['US', 6], ['MX', 5], ['NG', 4], ['PK', 4], ['RU', 4], ['DE', 4],
  ['EG', 3], ['TR', 3], ['PH', 3], ['GB', 3], ['FR', 3], ['IT', 3], ['ES', 3], ['AR', 2], ['CO', 2],
  ['ZA', 2], ['VN', 2], ['SA', 2], ['KE', 2], ['BD', 2], ['JP', 1], ['PL', 1], ['NL', 1], ['UA', 1],
  ['CA', 1], ['AU', 1],
];

const PLATFORM_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['android', 62], ['ios', 28], ['web', 6], ['desktop', 4],
];

/** Recent releases dominate; a long tail of old versions stays around for months. */
const VERSION_WEIGHTS: Readonly<Record<string, ReadonlyArray<readonly [string, number]>>> = {
  android: [['6.4.1', 38], ['6.4.0', 20], ['6.3.2', 18], ['6.2.0', 12], ['6.0.3', 8], ['5.8.1', 4]],
  ios: [['6.4.0', 45], ['6.3.2', 25], ['6.2.1', 15], ['6.1.0', 10], ['5.9.3', 5]],
  web: [['2.26.4', 70], ['2.26.3', 20], ['2.25.0', 10]],
  desktop: [['3.12.0', 55], ['3.11.2', 30], ['3.9.0', 15]],
};

/** Share of users with a device that cannot do E2EE yet. */
export const INCAPABLE_RATIO = 0.03;

const SAFE_LITERAL = /^[A-Za-z0-9._-]+$/;

/** `CASE WHEN r < c1 THEN 'a' WHEN r < c2 THEN 'b' ... ELSE 'z' END` from weights. */
export function weightedCase(r: string, weights: ReadonlyArray<readonly [string, number]>): string {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  let cumulative = 0;
  const whens = weights.slice(0, -1).map(([value, w]) => {
    if (!SAFE_LITERAL.test(value)) throw new Error(`unsafe literal ${value}`);
    cumulative += w;
    return `WHEN ${r} < ${(cumulative / total).toFixed(6)} THEN '${value}'`;
  });
  return `CASE ${whens.join(' ')} ELSE '${weights[weights.length - 1][0]}' END`;
}

export function countryExpr(r: string): string {
  return weightedCase(r, COUNTRY_WEIGHTS);
}

export function platformExpr(r: string): string {
  return weightedCase(r, PLATFORM_WEIGHTS);
}

/** The app version depends on the platform chosen for the same user. */
export function appVersionExpr(platformR: string, r: string): string {
  const total = PLATFORM_WEIGHTS.reduce((s, [, w]) => s + w, 0);
  let cumulative = 0;
  const whens = PLATFORM_WEIGHTS.map(([platform, w]) => {
    cumulative += w;
    return `WHEN ${platformR} < ${(cumulative / total).toFixed(6)} THEN ${weightedCase(r, VERSION_WEIGHTS[platform])}`;
  });
  return `CASE ${whens.join(' ')} ELSE '${VERSION_WEIGHTS.desktop[0][0]}' END`;
}

export const PLATFORM_CHOICES = PLATFORM_WEIGHTS.map(([p]) => p);
export const COUNTRY_CHOICES = COUNTRY_WEIGHTS.map(([c]) => c);
