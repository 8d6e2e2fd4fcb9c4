import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { findCycles, folderImports, importCounts, type FolderImport } from '../support/import-graph';

const SRC = resolve(__dirname, '../../src');

/** Features built on the rollout: the rollout never imports them. */
const DEPENDS_ON_ROLLOUT = ['users', 'progress', 'alerts', 'webhooks', 'cli', '(root)'];

function describeCycle(cycle: string[], imports: readonly FolderImport[]): string {
  const steps = cycle.slice(1).map((to, i) => {
    const from = cycle[i];
    const files = imports.filter((x) => x.from === from && x.to === to).map((x) => `${x.file} imports ${x.specifier}`);
    return `  ${from} -> ${to}: ${files.slice(0, 3).join('; ')}${files.length > 3 ? `; … ${files.length - 3} more` : ''}`;
  });
  return `${cycle.join(' -> ')}\n${steps.join('\n')}`;
}

describe('imports between the top-level folders of src/', () => {
  const imports = folderImports(SRC);

  it('form no cycle', () => {
    const cycles = findCycles(imports).map((c) => describeCycle(c, imports));
    expect(cycles).toEqual([]);
  });

  it('never go from the rollout into a feature that depends on it', () => {
    const reverse = imports.filter((x) => x.from === 'rollout' && DEPENDS_ON_ROLLOUT.includes(x.to)).map((x) => `${x.file} imports ${x.specifier}`);
    expect(reverse).toEqual([]);
  });

  it('are found by the check (the rollout is imported by its dependants, core by everyone)', () => {
    const counts = importCounts(imports);
    for (const edge of ['users -> rollout', 'progress -> rollout', 'rollout -> core', '(root) -> rollout']) expect(counts.get(edge)).toBeGreaterThan(0);
  });
});

describe('findCycles', () => {
  it('finds a cycle through three folders and reports it as a closed path', () => {
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'c', to: 'core' },
    ];
    expect(findCycles(edges)).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('finds each of two separate cycles and nothing in a graph without one', () => {
    const twoCycles = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'x', to: 'y' },
      { from: 'y', to: 'x' },
      { from: 'a', to: 'x' },
    ];
    expect(findCycles(twoCycles).sort()).toEqual([
      ['a', 'b', 'a'],
      ['x', 'y', 'x'],
    ]);
    const layered = [
      { from: 'users', to: 'rollout' },
      { from: 'rollout', to: 'core' },
      { from: 'users', to: 'core' },
    ];
    expect(findCycles(layered)).toEqual([]);
  });
});

describe('folderImports', () => {
  let dir: string;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'import-graph-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads static, type-only, re-export, dynamic and require imports, not comments, packages or same-folder ones', () => {
    write('a/one.ts', "import { x } from '../b/x';\nimport type { T } from '../c/t';\nexport { y } from '../d/y';\n// import '../e/commented';\nimport { z } from 'zod';\nimport { s } from './same';\n");
    write('a/two.ts', "const m = () => import('../f/lazy');\nconst r = require('../g/old');\n");
    write('root.ts', "import { A } from './a/one';\n");
    write('generated/client.ts', "import { x } from '../b/x';\n");
    const found = folderImports(dir).map((x) => `${x.from} -> ${x.to}`);
    expect(found.sort()).toEqual(['(root) -> a', 'a -> b', 'a -> c', 'a -> d', 'a -> f', 'a -> g']);
  });

  it('reports an import cycle written into files', () => {
    write('rollout/state.ts', "import { U } from '../users/users.types';\n");
    write('users/users.types.ts', "import { S } from '../rollout/state';\n");
    expect(findCycles(folderImports(dir))).toEqual([['rollout', 'users', 'rollout']]);
  });
});
