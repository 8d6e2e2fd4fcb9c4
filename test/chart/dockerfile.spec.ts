import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, loadValues, readText } from './chart';

/** What can be checked of the Dockerfile without a Docker daemon. */

interface Instruction {
  stage: string;
  op: string;
  args: string;
}

function instructions(): Instruction[] {
  const logical = readText(REPO, 'Dockerfile')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let stage = '';
  return logical.map((line) => {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    return { stage, op, args };
  });
}

/** The subset of .dockerignore semantics this repository uses: globs anchored at the context root. */
function ignoredBy(patterns: string[], path: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*/g, '[^/]*')}(?:/.*)?$`);
  return patterns.some((p) => toRegex(p).test(path));
}

const dockerignore = readText(REPO, '.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const all = instructions();
const runtime = all.filter((i) => i.stage === 'runtime');
const lock = JSON.parse(readText(REPO, 'package-lock.json')) as { packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }> };

describe('Dockerfile', () => {
  it('ends in a runtime stage that runs as a numeric non-root user and starts the API by default', () => {
    expect(all.at(-1)!.stage).toBe('runtime');
    expect(runtime.find((i) => i.op === 'USER')?.args).toBe('1000:1000');
    expect(runtime.find((i) => i.op === 'CMD')?.args).toBe('["node", "dist/src/main.api.js"]');
  });

  it('builds the entrypoints the chart starts (API, worker) from sources that exist', () => {
    const v = loadValues() as any;
    for (const command of [v.api.command, v.worker.command] as string[][]) {
      expect(command[0]).toBe('node');
      const script = command.slice(1).find((a) => !a.startsWith('-'))!;
      expect(existsSync(join(REPO, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    }
  });

  it('generates the Prisma client and compiles in the build stage', () => {
    const build = all.filter((i) => i.stage === 'build' && i.op === 'RUN').map((i) => i.args).join('\n');
    expect(build).toContain('npm ci');
    expect(build).toContain('bash scripts/prisma.sh generate');
    expect(build).toContain('npm run build');
  });

  it('installs production dependencies only for the runtime', () => {
    const prod = all.filter((i) => i.stage === 'prod-deps' && i.op === 'RUN').map((i) => i.args).join('\n');
    expect(prod).toMatch(/npm ci --omit=dev/);
    expect(runtime.filter((i) => i.op === 'COPY' && i.args.includes('node_modules')).map((i) => i.args)).toEqual([
      '--from=prod-deps /app/node_modules ./node_modules',
    ]);
  });

  it('keeps the Prisma CLI under --omit=dev, as the migration Job needs (no package of its closure is dev-only)', () => {
    // node's resolution: the nearest node_modules/<name> from the requiring package upwards
    const resolve = (from: string, name: string): string | null => {
      for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
        const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
        if (lock.packages[key]) return key;
        if (!dir) return null;
      }
    };
    const seen = new Set<string>();
    const devOnly: string[] = [];
    const visit = (from: string, name: string) => {
      const key = resolve(from, name);
      if (!key || seen.has(key)) return;
      seen.add(key);
      if (lock.packages[key].dev === true) devOnly.push(key);
      for (const dep of Object.keys(lock.packages[key].dependencies ?? {})) visit(key, dep);
    };
    visit('', 'prisma');
    visit('', '@prisma/adapter-pg');
    expect(seen.has('node_modules/@prisma/config')).toBe(true);
    expect(seen.size).toBeGreaterThan(10);
    expect(devOnly).toEqual([]);
  });

  it('copies into the runtime what `bash scripts/prisma.sh migrate deploy` reads', () => {
    const copies = runtime.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).map((i) => i.args).join('\n');
    for (const path of ['package.json', 'prisma.config.ts', 'prisma ', 'scripts/prisma.sh']) expect(copies).toContain(path);
    expect(readText(REPO, 'scripts', 'prisma.sh')).toContain('node node_modules/prisma/build/index.js');
  });

  it('copies only context paths that exist and that .dockerignore lets through', () => {
    const sources = all
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .filter((s) => s !== '.');
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect({ source, exists: existsSync(join(REPO, source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignoredBy(dockerignore, source) }).toEqual({ source, ignored: false });
    }
  });

  it('keeps local state, generated code and secrets out of the build context', () => {
    for (const path of ['node_modules', 'src/node_modules', 'dist', '.git', 'src/generated', '.env', '.env.production', '.cutover', 'test/e2e/x.e2e-spec.ts']) {
      expect({ path, ignored: ignoredBy(dockerignore, path) }).toEqual({ path, ignored: true });
    }
    for (const path of ['src/main.api.ts', 'prisma/schema.prisma', 'prisma/migrations/x/migration.sql', 'package-lock.json', 'tsconfig.build.json', 'bin/cutover.js']) {
      expect({ path, ignored: ignoredBy(dockerignore, path) }).toEqual({ path, ignored: false });
    }
  });
});
