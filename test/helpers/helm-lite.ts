import { stringify } from 'yaml';

/**
 * Renders the subset of Helm's Go templates that deploy/helm/podtrace uses, for tests on machines
 * without Helm:
 *   {{ .Values.a.b }}  {{ .Release.Name }}  {{ .Chart.AppVersion }}   values by path
 *   {{- ... -}}                                                     whitespace trimming
 *   {{- if PIPELINE }} ... {{- else }} ... {{- end }}                Go truthiness
 *   PIPELINE: a value or `fn args...`, then `| fn args...`; fn in quote, toYaml, nindent, indent,
 *   default, toString; `"string"` and integer literals; {{/* comments *\/}}
 * Anything else throws, so a template that uses more than this subset fails the tests instead of
 * being rendered wrongly.
 */
export interface RenderContext {
  Values: unknown;
  Release: { Name: string; Namespace: string; Service: string };
  Chart: { Name: string; Version: string; AppVersion: string };
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: string }
  | { kind: 'if'; cond: string; then: Node[]; else: Node[] };

function tokenize(template: string): { kind: 'text' | 'action'; text: string }[] {
  const tokens: { kind: 'text' | 'action'; text: string }[] = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-') text = text.replace(/\s+$/, '');
    tokens.push({ kind: 'text', text });
    tokens.push({ kind: 'action', text: m[2] ?? '' });
    trimNext = m[3] === '-';
    last = re.lastIndex;
  }
  let rest = template.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  tokens.push({ kind: 'text', text: rest });
  return tokens;
}

function parse(tokens: { kind: 'text' | 'action'; text: string }[]): Node[] {
  let i = 0;
  const block = (stopAt: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.kind === 'text') {
        if (t.text !== '') nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const action = t.text;
      if (action.startsWith('/*')) continue;
      const word = action.split(/\s+/)[0] ?? '';
      if (stopAt.includes(word)) return { nodes, stop: word };
      if (word === 'if') {
        const thenPart = block(['else', 'end']);
        const elsePart = thenPart.stop === 'else' ? block(['end']) : { nodes: [], stop: 'end' };
        if (elsePart.stop !== 'end') throw new Error(`unterminated if: ${action}`);
        nodes.push({ kind: 'if', cond: action.slice(2).trim(), then: thenPart.nodes, else: elsePart.nodes });
        continue;
      }
      if (['else', 'end', 'range', 'with', 'define', 'template', 'include', 'block'].includes(word)) {
        throw new Error(`unsupported template action: {{ ${action} }}`);
      }
      nodes.push({ kind: 'output', expr: action });
    }
    if (stopAt.length > 0) throw new Error(`missing {{ end }} (expected one of ${stopAt.join(', ')})`);
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

function words(command: string): string[] {
  return command.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

function lookup(ctx: RenderContext, path: string): unknown {
  let cur: unknown = ctx;
  for (const part of path.split('.').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function atom(ctx: RenderContext, word: string): unknown {
  if (word.startsWith('.')) return lookup(ctx, word);
  if (word.startsWith('"')) return JSON.parse(word) as unknown;
  if (/^-?\d+$/.test(word)) return Number(word);
  throw new Error(`unsupported template value: ${word}`);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  quote: (v) => JSON.stringify(toText(v)),
  toString: (v: unknown) => toText(v),
  toYaml: (v) => (v === undefined || v === null ? 'null' : stringify(v, { lineWidth: 0 }).replace(/\n$/, '')),
  indent: (n, v) =>
    toText(v)
      .split('\n')
      .map((l) => ' '.repeat(Number(n)) + l)
      .join('\n'),
  nindent: (n, v) => `\n${String(FUNCTIONS.indent!(n, v))}`,
  default: (fallback, v) => (truthy(v) ? v : fallback),
};

function evaluate(ctx: RenderContext, expr: string): unknown {
  let value: unknown;
  expr.split('|').forEach((command, index) => {
    const [head, ...args] = words(command.trim());
    if (head === undefined) throw new Error(`empty pipeline stage in {{ ${expr} }}`);
    const fn = FUNCTIONS[head];
    if (fn === undefined) {
      if (index > 0 || args.length > 0) throw new Error(`unsupported template function: ${head}`);
      value = atom(ctx, head);
      return;
    }
    const argv = args.map((a) => atom(ctx, a));
    value = index === 0 ? fn(...argv) : fn(...argv, value);
  });
  return value;
}

function renderNodes(ctx: RenderContext, nodes: Node[]): string {
  return nodes
    .map((n) => {
      if (n.kind === 'text') return n.text;
      if (n.kind === 'output') return toText(evaluate(ctx, n.expr));
      return renderNodes(ctx, truthy(evaluate(ctx, n.cond)) ? n.then : n.else);
    })
    .join('');
}

export function renderTemplate(template: string, ctx: RenderContext): string {
  return renderNodes(ctx, parse(tokenize(template)));
}
