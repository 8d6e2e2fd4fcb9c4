import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FUNCS } from './funcs';
import { parseTemplate, type Node, type Operand, type Pipeline } from './parse';
import { TemplateError, goString, isDict, truthy, type Dict } from './values';

export { TemplateError } from './values';

type Scope = Map<string, unknown>[];

/** Executes parsed templates the way Helm's engine does (text/template + Sprig + include). */
class Engine {
  constructor(private readonly templates: Map<string, Node[]>) {}

  run(name: string, dot: unknown, root: unknown): string {
    const nodes = this.templates.get(name);
    if (!nodes) throw new TemplateError(`template "${name}" not defined`);
    return this.exec(nodes, dot, [new Map([['$', root]])]);
  }

  private exec(nodes: Node[], dot: unknown, scope: Scope): string {
    let out = '';
    const local: Scope = [...scope, new Map()];
    for (const n of nodes) out += this.node(n, dot, local);
    return out;
  }

  private node(n: Node, dot: unknown, scope: Scope): string {
    switch (n.kind) {
      case 'text':
        return n.text;
      case 'action': {
        const v = this.pipeline(n.pipe, dot, scope);
        return n.pipe.decl.length > 0 ? '' : goString(v);
      }
      case 'if':
      case 'with': {
        const inner: Scope = [...scope, new Map()];
        const v = this.pipeline(n.pipe, dot, inner);
        if (!truthy(v)) return this.exec(n.else, dot, scope);
        return this.exec(n.then, n.kind === 'with' ? v : dot, inner);
      }
      case 'range':
        return this.range(n, dot, scope);
      case 'template':
        return this.run(n.name, n.pipe ? this.pipeline(n.pipe, dot, scope) : null, this.root(scope));
    }
  }

  private range(n: Extract<Node, { kind: 'range' }>, dot: unknown, scope: Scope): string {
    const items = this.pipeline({ ...n.pipe, decl: [] }, dot, scope);
    const entries: [unknown, unknown][] = Array.isArray(items)
      ? items.map((v, i) => [BigInt(i), v])
      : isDict(items) ? Object.keys(items).sort().map((k) => [k, items[k]]) : [];
    if (items !== null && items !== undefined && !Array.isArray(items) && !isDict(items)) throw new TemplateError(`range can't iterate over ${goString(items)}`);
    if (entries.length === 0) return this.exec(n.else, dot, scope);
    let out = '';
    for (const [k, v] of entries) {
      const vars = new Map<string, unknown>();
      if (n.pipe.decl.length === 1) vars.set(n.pipe.decl[0], v);
      if (n.pipe.decl.length === 2) vars.set(n.pipe.decl[0], k).set(n.pipe.decl[1], v);
      out += this.exec(n.body, v, [...scope, vars]);
    }
    return out;
  }

  private root(scope: Scope): unknown {
    return scope[0].get('$');
  }

  private lookup(name: string, scope: Scope): unknown {
    for (let i = scope.length - 1; i >= 0; i--) if (scope[i].has(name)) return scope[i].get(name);
    throw new TemplateError(`undefined variable "${name}"`);
  }

  private pipeline(p: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown;
    p.commands.forEach((c, i) => {
      const args = c.args.slice(1).map((a) => this.operand(a, dot, scope));
      if (i > 0) args.push(value);
      value = this.call(c.args[0], args, dot, scope);
    });
    if (p.decl.length === 1) {
      if (p.assign) {
        const frame = [...scope].reverse().find((f) => f.has(p.decl[0]));
        if (!frame) throw new TemplateError(`undefined variable "${p.decl[0]}"`);
        frame.set(p.decl[0], value);
      } else {
        scope[scope.length - 1].set(p.decl[0], value);
      }
    }
    return value;
  }

  private call(head: Operand, args: unknown[], dot: unknown, scope: Scope): unknown {
    if (head.kind !== 'ident') {
      const value = this.operand(head, dot, scope);
      // a method of the template data, e.g. .Files.Get
      if (typeof value === 'function') return (value as (...a: unknown[]) => unknown)(...args);
      if (args.length > 0) throw new TemplateError(`can't give argument to non-function`);
      return value;
    }
    if (head.name === 'include') return this.run(goString(args[0]), args[1], this.root(scope));
    const fn = FUNCS[head.name];
    if (!fn) throw new TemplateError(`function "${head.name}" not defined`);
    return fn(...args);
  }

  private operand(o: Operand, dot: unknown, scope: Scope): unknown {
    switch (o.kind) {
      case 'string':
      case 'int':
      case 'float':
      case 'bool':
        return o.value;
      case 'nil':
        return null;
      case 'pipe':
        return this.pipeline(o.pipe, dot, scope);
      case 'ident':
        return this.call(o, [], dot, scope);
      case 'field': {
        let cur = o.base === 'dot' ? dot : this.lookup(o.base, scope);
        for (const key of o.path) {
          if (cur === null || cur === undefined) throw new TemplateError(`nil pointer evaluating interface {}.${key}`);
          if (!isDict(cur)) throw new TemplateError(`can't evaluate field ${key} in type ${typeof cur}`);
          cur = cur[key];
        }
        return cur;
      }
    }
  }
}

export interface Release {
  name: string;
  namespace: string;
  isUpgrade?: boolean;
}

export interface Rendered {
  /** manifests by template file, split on `---`, empty documents dropped */
  manifests: Map<string, string[]>;
  notes: string;
}

/** Renders a chart directory like `helm template`: every non-underscore file, plus NOTES.txt. */
export function renderChart(chartDir: string, values: Dict, release: Release): Rendered {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Dict;
  const base = `${String(chart.name)}/templates`;
  const templates = new Map<string, Node[]>();
  const files = readdirSync(join(chartDir, 'templates')).sort();
  for (const f of files) templates.set(`${base}/${f}`, parseTemplate(readFileSync(join(chartDir, 'templates', f), 'utf8'), f, templates));
  const engine = new Engine(templates);
  const data = (file: string): Dict => ({
    Values: values,
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: !release.isUpgrade, IsUpgrade: !!release.isUpgrade, Revision: 1n },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion, Description: chart.description },
    Capabilities: { KubeVersion: { Version: 'v1.30.0', Major: '1', Minor: '30' } },
    Template: { BasePath: base, Name: `${base}/${file}` },
    Files: { Get: (path: unknown) => readChartFile(chartDir, goString(path)) },
  });
  const manifests = new Map<string, string[]>();
  for (const f of files.filter((x) => !x.startsWith('_') && x !== 'NOTES.txt')) {
    const d = data(f);
    const text = engine.run(`${base}/${f}`, d, d);
    manifests.set(f, text.split(/^---\s*$/m).map((doc) => doc.trim()).filter((doc) => doc.replace(/^#.*$/gm, '').trim() !== ''));
  }
  const d = data('NOTES.txt');
  return { manifests, notes: engine.run(`${base}/NOTES.txt`, d, d) };
}

/** .Files.Get: a file of the chart, or "" when there is none (as Helm answers). */
function readChartFile(chartDir: string, path: string): string {
  try {
    return readFileSync(join(chartDir, path), 'utf8');
  } catch {
    return '';
  }
}
