/**
 * A parser for the subset of Go's text/template that the chart uses: text, actions with trim
 * markers, comments, if/else if/else, with/else, range (with `$i, $v :=`), define, variables,
 * pipelines, parenthesised pipelines, string/number/bool literals, fields and variables.
 * It exists so that CI can render the chart where no Helm binary can be installed.
 */

export type Operand =
  | { kind: 'field'; base: 'dot' | string; path: string[] } // `.A.B` (base dot) or `$x.A` (base $x)
  | { kind: 'string'; value: string }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };

export interface Command {
  args: Operand[];
}

export interface Pipeline {
  decl: string[];
  assign: boolean;
  commands: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[] }
  | { kind: 'template'; name: string; pipe: Pipeline | null };

export class TemplateSyntaxError extends Error {}

interface Token {
  text: string; // the raw action text, trimmed
  trimLeft: boolean;
  trimRight: boolean;
}

/** Splits source into text and action tokens, applying `{{-` / `-}}` whitespace trimming. */
function lex(src: string, file: string): Array<string | Token> {
  const out: Array<string | Token> = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      out.push(src.slice(pos));
      break;
    }
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateSyntaxError(`${file}: unclosed action`);
    out.push(src.slice(pos, open));
    let inner = src.slice(open + 2, close);
    const trimLeft = /^-\s/.test(inner);
    const trimRight = /\s-$/.test(inner);
    if (trimLeft) inner = inner.slice(1);
    if (trimRight) inner = inner.slice(0, -1);
    out.push({ text: inner.trim(), trimLeft, trimRight });
    pos = close + 2;
  }
  for (let i = 0; i < out.length; i++) {
    const t = out[i];
    if (typeof t === 'string') continue;
    if (t.trimLeft && typeof out[i - 1] === 'string') out[i - 1] = (out[i - 1] as string).replace(/\s+$/, '');
    if (t.trimRight && typeof out[i + 1] === 'string') out[i + 1] = (out[i + 1] as string).replace(/^\s+/, '');
  }
  return out;
}

const WORD = /^(?:"(?:[^"\\]|\\.)*"|`[^`]*`|:=|=|\||\(|\)|,|[^\s|(),]+)/;

function words(text: string): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const m = WORD.exec(rest);
    if (!m) throw new TemplateSyntaxError(`cannot read "${rest}"`);
    out.push(m[0]);
    rest = rest.slice(m[0].length).trimStart();
  }
  return out;
}

function operand(w: string): Operand {
  if (w.startsWith('"')) return { kind: 'string', value: JSON.parse(w) as string };
  if (w.startsWith('`')) return { kind: 'string', value: w.slice(1, -1) };
  if (/^-?\d+$/.test(w)) return { kind: 'int', value: BigInt(w) };
  if (/^-?\d*\.\d+$/.test(w)) return { kind: 'float', value: Number(w) };
  if (w === 'true' || w === 'false') return { kind: 'bool', value: w === 'true' };
  if (w === 'nil') return { kind: 'nil' };
  if (w === '.') return { kind: 'field', base: 'dot', path: [] };
  if (w.startsWith('.')) return { kind: 'field', base: 'dot', path: w.slice(1).split('.') };
  if (w.startsWith('$')) {
    const [base, ...path] = w.split('.');
    return { kind: 'field', base, path };
  }
  if (/^[A-Za-z_]\w*$/.test(w)) return { kind: 'ident', name: w };
  throw new TemplateSyntaxError(`unexpected "${w}"`);
}

/** Parses a pipeline from words[i..] up to a closing paren (nested) or the end. */
function pipeline(ws: string[], start = 0): { pipe: Pipeline; next: number } {
  const pipe: Pipeline = { decl: [], assign: false, commands: [] };
  let i = start;
  const declEnd = ws.findIndex((w, j) => j >= i && (w === ':=' || w === '='));
  if (declEnd > 0 && ws.slice(i, declEnd).every((w) => w.startsWith('$') || w === ',')) {
    pipe.decl = ws.slice(i, declEnd).filter((w) => w !== ',');
    pipe.assign = ws[declEnd] === '=';
    i = declEnd + 1;
  }
  let cmd: Command = { args: [] };
  for (; i < ws.length; i++) {
    const w = ws[i];
    if (w === ')') break;
    if (w === '|') {
      pipe.commands.push(cmd);
      cmd = { args: [] };
    } else if (w === '(') {
      const inner = pipeline(ws, i + 1);
      cmd.args.push({ kind: 'pipe', pipe: inner.pipe });
      i = inner.next;
    } else {
      cmd.args.push(operand(w));
    }
  }
  pipe.commands.push(cmd);
  if (pipe.commands.some((c) => c.args.length === 0)) throw new TemplateSyntaxError(`empty command in "${ws.join(' ')}"`);
  return { pipe, next: i };
}

export function parsePipeline(text: string): Pipeline {
  return pipeline(words(text)).pipe;
}

interface Frame {
  kind: 'root' | 'if' | 'with' | 'range' | 'define';
  node?: Node;
  name?: string;
  list: Node[];
}

/** Parses one file; `define` blocks go into `defines`, the rest is the file's own tree. */
export function parseTemplate(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const root: Frame = { kind: 'root', list: [] };
  const stack: Frame[] = [root];
  const top = () => stack[stack.length - 1];
  for (const tok of lex(src, file)) {
    if (typeof tok === 'string') {
      if (tok) top().list.push({ kind: 'text', text: tok });
      continue;
    }
    const t = tok.text;
    if (t.startsWith('/*')) continue;
    const [head] = /^\w+/.exec(t) ?? [''];
    const rest = t.slice(head.length).trim();
    if (head === 'if' || head === 'with' || head === 'range') {
      const node: Node = head === 'range'
        ? { kind: 'range', pipe: parsePipeline(rest), body: [], else: [] }
        : { kind: head, pipe: parsePipeline(rest), then: [], else: [] };
      top().list.push(node);
      stack.push({ kind: head, node, list: node.kind === 'range' ? node.body : node.then });
    } else if (head === 'else') {
      const f = top();
      const node = f.node as Extract<Node, { else: Node[] }>;
      if (!node) throw new TemplateSyntaxError(`${file}: else outside a block`);
      f.list = node.else;
      if (rest.startsWith('if ')) {
        const nested: Node = { kind: 'if', pipe: parsePipeline(rest.slice(3)), then: [], else: [] };
        node.else.push(nested);
        f.node = nested;
        f.list = nested.then;
      }
    } else if (head === 'end') {
      const f = stack.pop();
      if (!f || f.kind === 'root') throw new TemplateSyntaxError(`${file}: end without a block`);
      if (f.kind === 'define') defines.set(f.name!, f.list);
    } else if (head === 'define') {
      stack.push({ kind: 'define', name: JSON.parse(rest) as string, list: [] });
    } else if (head === 'template') {
      const [, name, arg] = /^("(?:[^"\\]|\\.)*")\s*(.*)$/.exec(rest) ?? [];
      top().list.push({ kind: 'template', name: JSON.parse(name) as string, pipe: arg ? parsePipeline(arg) : null });
    } else {
      top().list.push({ kind: 'action', pipe: parsePipeline(t) });
    }
  }
  if (stack.length !== 1) throw new TemplateSyntaxError(`${file}: ${stack.length - 1} block(s) not closed`);
  return root.list;
}
