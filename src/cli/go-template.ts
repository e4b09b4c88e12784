import { InvalidError } from '../lib/errors.ts';

/**
 * The subset of Go's text/template that docker users put in --format and
 * inspect -f: field paths ({{.ID}}, {{.State.Status}}), functions (json, join,
 * index, upper, lower, title, len, println), pipelines ({{.Names | upper}}),
 * {{if}}/{{else}}/{{end}} and {{range}}/{{end}} over arrays and maps.
 * Values print as Go prints them: maps as map[k:v], slices as [a b].
 */

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Command[] }
  | { kind: 'if'; pipe: Command[]; yes: Node[]; no: Node[] }
  | { kind: 'range'; pipe: Command[]; body: Node[]; else: Node[] };
/** One command of a pipeline: a function name or an operand, followed by arguments. */
type Command = Operand[];
type Operand =
  | { kind: 'field'; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'ident'; name: string };

function tokenize(src: string): Operand[] {
  const out: Operand[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*"|`[^`]*`)|(-?\d+(?:\.\d+)?)|(\.[\w.]*)|([A-Za-z_]\w*)|(\|))/y;
  let pos = 0;
  while (pos < src.length && !/^\s*$/.test(src.slice(pos))) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new InvalidError(`template: cannot parse ${JSON.stringify(src.slice(pos).trim())}`);
    pos = re.lastIndex;
    if (m[1])
      out.push({
        kind: 'string',
        value: m[1].startsWith('`') ? m[1].slice(1, -1) : (JSON.parse(m[1]) as string),
      });
    else if (m[2]) out.push({ kind: 'number', value: Number(m[2]) });
    else if (m[3]) out.push({ kind: 'field', path: m[3] === '.' ? [] : m[3].slice(1).split('.') });
    else if (m[4]) out.push({ kind: 'ident', name: m[4] });
    else out.push({ kind: 'ident', name: '|' });
  }
  return out;
}

function parsePipe(src: string): Command[] {
  const cmds: Command[] = [[]];
  for (const t of tokenize(src)) {
    if (t.kind === 'ident' && t.name === '|') cmds.push([]);
    else cmds[cmds.length - 1]?.push(t);
  }
  if (cmds.some((c) => c.length === 0))
    throw new InvalidError(`template: empty command in ${JSON.stringify(src)}`);
  return cmds;
}

/** Parses a template; throws InvalidError with the offending part. */
export function parseTemplate(src: string): Node[] {
  const parts = src.split(/(\{\{-?\s*[\s\S]*?\s*-?\}\})/);
  let i = 0;
  function block(terminators: string[]): { nodes: Node[]; end: string } {
    const nodes: Node[] = [];
    while (i < parts.length) {
      const part = parts[i++] ?? '';
      if (!part.startsWith('{{')) {
        if (part) nodes.push({ kind: 'text', text: part });
        continue;
      }
      const inner = part.replace(/^\{\{-?\s*/, '').replace(/\s*-?\}\}$/, '');
      const word = inner.split(/\s+/)[0] ?? '';
      if (terminators.includes(word)) return { nodes, end: word };
      if (word === 'if' || word === 'range') {
        const pipe = parsePipe(inner.slice(word.length));
        const body = block(['else', 'end']);
        const alt = body.end === 'else' ? block(['end']).nodes : [];
        nodes.push(
          word === 'if'
            ? { kind: 'if', pipe, yes: body.nodes, no: alt }
            : { kind: 'range', pipe, body: body.nodes, else: alt },
        );
      } else if (word === 'end' || word === 'else') {
        throw new InvalidError(`template: unexpected {{${word}}}`);
      } else {
        nodes.push({ kind: 'action', pipe: parsePipe(inner) });
      }
    }
    if (terminators.length) throw new InvalidError(`template: missing {{end}}`);
    return { nodes, end: '' };
  }
  return block([]).nodes;
}

/** Go's %v of a JSON value. */
export function goString(v: unknown): string {
  if (v === null) return '<nil>';
  if (v === undefined) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  }
  return String(v);
}

function field(dot: unknown, path: string[]): unknown {
  let v = dot;
  for (const key of path) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** JSON as Go's encoding/json writes it: <, > and & escaped as \u003c, \u003e, \u0026. */
export function goJson(v: unknown, indent?: number): string {
  return JSON.stringify(v ?? null, null, indent)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

const functions: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => goJson(v),
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep ?? '')) : goString(list)),
  index: (v, ...keys) =>
    keys.reduce(
      (acc: unknown, k) =>
        acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[String(k)] : undefined,
      v,
    ),
  upper: (v) => goString(v).toUpperCase(),
  lower: (v) => goString(v).toLowerCase(),
  title: (v) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: (v) =>
    Array.isArray(v) || typeof v === 'string'
      ? v.length
      : v && typeof v === 'object'
        ? Object.keys(v).length
        : 0,
  println: (...args) => `${args.map(goString).join(' ')}\n`,
  split: (s, sep) => goString(s).split(String(sep)),
};

function evalPipe(pipe: Command[], dot: unknown): unknown {
  let result: unknown;
  pipe.forEach((cmd, n) => {
    const [head, ...rest] = cmd;
    const operand = (o: Operand): unknown => {
      if (o.kind === 'field') return field(dot, o.path);
      if (o.kind === 'ident') throw new InvalidError(`template: ${o.name} is not a value`);
      return o.value;
    };
    const args = rest.map(operand);
    if (n > 0) args.push(result);
    if (head?.kind === 'ident') {
      const fn = functions[head.name];
      if (!fn) throw new InvalidError(`template: function "${head.name}" not defined`);
      result = fn(...args);
    } else if (head) {
      result = operand(head);
    }
  });
  return result;
}

function render(nodes: Node[], dot: unknown): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'action') out += goString(evalPipe(node.pipe, dot));
    else if (node.kind === 'if') out += render(truthy(evalPipe(node.pipe, dot)) ? node.yes : node.no, dot);
    else {
      const v = evalPipe(node.pipe, dot);
      const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
      out += items.length ? items.map((item) => render(node.body, item)).join('') : render(node.else, dot);
    }
  }
  return out;
}

/** Parses once and returns a function that renders the template against `dot`. */
export function compileTemplate(src: string): (dot: unknown) => string {
  const nodes = parseTemplate(src);
  return (dot) => render(nodes, dot);
}
