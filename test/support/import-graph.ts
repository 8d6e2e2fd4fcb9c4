import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/** One import from a file in one top-level folder of src/ into another. */
export interface FolderImport {
  from: string;
  to: string;
  /** the importing file, relative to src/ */
  file: string;
  /** the module imported, as written */
  specifier: string;
}

/** Files directly in src/ (the two entry points and their root modules) form the folder "(root)". */
export const ROOT = '(root)';

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function topFolder(srcDir: string, path: string): string {
  const parts = relative(srcDir, path).split(sep);
  return parts.length > 1 ? parts[0] : ROOT;
}

/**
 * Every relative import (static, `export … from`, `import type`, dynamic `import()`, `require`)
 * that crosses from one top-level folder of `srcDir` to another, read with the TypeScript
 * compiler's own pre-processor, so comments and strings are never mistaken for imports.
 */
export function folderImports(srcDir: string, skipFolders: readonly string[] = ['generated']): FolderImport[] {
  const root = resolve(srcDir);
  const imports: FolderImport[] = [];
  for (const path of sourceFiles(root)) {
    const from = topFolder(root, path);
    if (skipFolders.includes(from)) continue;
    const info = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(path), specifier);
      if (relative(root, target).startsWith('..')) continue;
      const to = topFolder(root, target);
      if (to !== from) imports.push({ from, to, file: relative(root, path).split(sep).join('/'), specifier });
    }
  }
  return imports;
}

/** How many imports go from each folder to each other one, as `from -> to` keys. */
export function importCounts(imports: readonly FolderImport[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const i of imports) counts.set(`${i.from} -> ${i.to}`, (counts.get(`${i.from} -> ${i.to}`) ?? 0) + 1);
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The cycles of a directed graph, one per strongly connected component of more than one node
 * (Tarjan), each given as a closed path `[a, b, …, a]` through that component.
 */
export function findCycles(edges: ReadonlyArray<{ from: string; to: string }>): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    if (!next.has(to)) next.set(to, new Set());
    next.get(from)!.add(to);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => pathThrough(component.sort(), next));
}

/** A closed path from the component's first node back to itself, staying inside the component. */
function pathThrough(component: string[], next: Map<string, Set<string>>): string[] {
  const inside = new Set(component);
  const start = component[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...next.get(v)!].sort()) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path: string[] = [];
        for (let u = v; u !== start; u = cameFrom.get(u)!) path.unshift(u);
        return [start, ...path, start];
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}
