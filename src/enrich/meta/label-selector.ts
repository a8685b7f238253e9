import { ConfigError } from '../../core/errors';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: ReadonlySet<string> }
  | { op: 'exists' | 'notexists'; key: string };

/** A parsed Kubernetes label selector: `app=web,tier!=db,env in (prod,stage),!legacy,canary`. */
export interface LabelSelector {
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

/** Parses a selector; `key` names the config key for error messages (`filter.podSelector`). */
export function parseLabelSelector(selector: string, key = 'filter.podSelector'): LabelSelector {
  const bad = (why: string): never => {
    throw new ConfigError(`${key}: ${JSON.stringify(selector)} is not a label selector (${why})`);
  };
  const reqs: Requirement[] = [];
  for (const term of splitTerms(selector)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = (m[3] as string)
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (!KEY.test(m[1] as string)) bad(`bad key ${m[1]}`);
      for (const v of values) if (!VALUE.test(v)) bad(`bad value ${v}`);
      reqs.push({ op: m[2] as 'in' | 'notin', key: m[1] as string, values: new Set(values) });
    } else if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      if (!KEY.test(m[1] as string)) bad(`bad key ${m[1]}`);
      if (!VALUE.test(m[3] as string)) bad(`bad value ${m[3]}`);
      reqs.push({ op: m[2] === '!=' ? 'neq' : 'eq', key: m[1] as string, value: m[3] as string });
    } else if ((m = /^!\s*(\S+)$/.exec(term))) {
      if (!KEY.test(m[1] as string)) bad(`bad key ${m[1]}`);
      reqs.push({ op: 'notexists', key: m[1] as string });
    } else if (KEY.test(term)) {
      reqs.push({ op: 'exists', key: term });
    } else {
      bad(`cannot parse ${JSON.stringify(term)}`);
    }
  }
  return {
    empty: reqs.length === 0,
    matches(labels) {
      for (const r of reqs) {
        const v = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined;
        switch (r.op) {
          case 'eq':
            if (v !== r.value) return false;
            break;
          case 'neq':
            if (v === r.value) return false;
            break;
          case 'in':
            if (v === undefined || !r.values.has(v)) return false;
            break;
          case 'notin':
            if (v !== undefined && r.values.has(v)) return false;
            break;
          case 'exists':
            if (v === undefined) return false;
            break;
          case 'notexists':
            if (v !== undefined) return false;
            break;
        }
      }
      return true;
    },
  };
}
