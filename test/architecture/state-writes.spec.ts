import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROLLOUT = resolve(__dirname, '../../src/rollout');
const STATE_MODULE = join(ROLLOUT, 'state');
/** A migration state written as an SQL literal. */
const STATE_LITERAL = /'(legacy|ineligible|eligible|enrolling|enabled|failed|held)'/g;

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) files(path, out);
    else if (e.name.endsWith('.ts') && !/\.(db-)?spec\.ts$/.test(e.name)) out.push(path);
  }
  return out;
}

/** Quoted state names in the text of template literals (the SQL), by file and line. */
function stateLiteralsInSql(path: string, text = readFileSync(path, 'utf8')): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      for (const m of node.text.matchAll(STATE_LITERAL)) found.push(`${relative(ROLLOUT, path)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${m[0]}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the rollout's SQL", () => {
  it('takes every migration state from the state module (rollout/state), never a literal of its own', () => {
    const outside = files(ROLLOUT).filter((f) => !f.startsWith(STATE_MODULE + '/'));
    expect(outside.length).toBeGreaterThan(10);
    expect(outside.flatMap((f) => stateLiteralsInSql(f))).toEqual([]);
  });

  it('is read by the check: a state in a template is found, one in a TypeScript string is not', () => {
    const text = "const q = sql`UPDATE t SET state = 'held' WHERE id = ${id} AND s = 'failed'`;\nconst s = 'held';\n";
    expect(stateLiteralsInSql(join(ROLLOUT, 'x.ts'), text)).toEqual(["x.ts:1 'held'", "x.ts:1 'failed'"]);
  });
});
