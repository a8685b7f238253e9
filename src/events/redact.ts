/**
 * Redaction of secrets in command lines (`process.command_args`), applied once per exec event as
 * it is decoded, before any sink or the console sees it. Patterns are matched case-insensitively;
 * each has one of four shapes:
 *
 * - `--name` (or `-name`): the flag's value, the next argument or the part after `--name=`;
 * - `GLOB=`: the value of `NAME=value` where NAME matches the glob (`*` = any characters), at the
 *   start of an argument or of a word inside one (`sh -c "PGPASSWORD=x psql"`);
 * - `Name:`: an HTTP-style header value (`curl -H 'Authorization: Bearer x'`), to the end of the
 *   argument or the closing quote;
 * - `*://*:*@`: the password in URL userinfo (`https://user:pw@host` → `https://user:[REDACTED]@host`).
 */
export const DEFAULT_REDACT_PATTERNS: readonly string[] = [
  '--password',
  '--token',
  '--api-key',
  '*password*=',
  '*token*=',
  '*secret*=',
  '*key*=',
  'Authorization:',
  'Cookie:',
  '*://*:*@',
];
export const REDACTED = '[REDACTED]';
const URL_USERINFO = '*://*:*@';

const escape = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

interface InlineRule {
  /** A lower-case literal every match contains (`password`, `authorization`, `://`): the regex runs only when it is there. */
  needle: string;
  re: RegExp;
}

/** Compiled patterns; build once per configuration (`Redactor.of` caches by list identity). */
export class Redactor {
  private static readonly cache = new WeakMap<readonly string[], Redactor>();
  private readonly flags = new Set<string>();
  private readonly rules: InlineRule[] = [];

  constructor(readonly patterns: readonly string[]) {
    for (const raw of patterns) {
      const p = raw.trim();
      if (p === '') continue;
      const literals = p === URL_USERINFO ? ['://'] : p.toLowerCase().split('*');
      const needle = literals.reduce((x, y) => (y.length > x.length ? y : x), '');
      let source: string;
      if (p === URL_USERINFO) {
        source = `((?:^|[\\s'"=(])[a-z][a-z0-9+.-]*:\\/\\/[^\\s/:@'"]+:)([^\\s/@'"]+)(?=@)`;
      } else if (p.startsWith('-') && !p.includes('=')) {
        this.flags.add(p.toLowerCase());
        // The flag inside a longer argument (`sh -c "mysql --password x"`), or `--flag=value`.
        source = `((?:^|\\s)${escape(p)}(?:=|\\s+))([^\\s'"]+)`;
      } else if (p.endsWith('=')) {
        const name = escape(p.slice(0, -1)).replace(/\*/g, `[^\\s='"]*`);
        source = `((?:^|[\\s'";&|])${name}=)([^\\s'"]+)`;
      } else if (p.endsWith(':')) {
        const name = escape(p.slice(0, -1)).replace(/\*/g, `[^\\s:'"]*`);
        source = `((?:^|[\\s'"])${name}:\\s*)([^'"\\n]+)`;
      } else {
        throw new Error(`redact pattern ${JSON.stringify(p)}: not --flag, NAME=, Header: or ${URL_USERINFO}`);
      }
      this.rules.push({ needle, re: new RegExp(source, 'gi') });
    }
  }

  /** The compiled form of `patterns`, shared by every caller passing the same array. */
  static of(patterns: readonly string[]): Redactor {
    let r = Redactor.cache.get(patterns);
    if (r === undefined) {
      r = new Redactor(patterns);
      Redactor.cache.set(patterns, r);
    }
    return r;
  }

  /** `s` with every secret value replaced by `[REDACTED]` (the same string when nothing matched). */
  text(s: string): string {
    // Every rule needs one of these: most arguments (paths, words, short flags) stop here.
    if (this.rules.length === 0 || (!s.includes('=') && !s.includes(':') && !s.includes(' -'))) return s;
    let out = s;
    let lower = s.toLowerCase();
    for (const rule of this.rules) {
      if (!lower.includes(rule.needle)) continue;
      const next = out.replace(rule.re, (_m, head: string) => `${head}${REDACTED}`);
      if (next !== out) {
        out = next;
        lower = out.toLowerCase();
      }
    }
    return out;
  }

  /** `args` with secrets replaced by `[REDACTED]` (the same array when nothing matched). */
  args(args: readonly string[]): readonly string[] {
    if (this.rules.length === 0) return args;
    let out: string[] | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as string;
      if (a.charCodeAt(0) === 45 /* - */ && i + 1 < args.length && this.flags.has(a.toLowerCase())) {
        if (args[i + 1] !== REDACTED) {
          out ??= args.slice();
          out[i + 1] = REDACTED;
        }
        i++;
        continue;
      }
      const r = this.text(a);
      if (r !== a) {
        out ??= args.slice();
        out[i] = r;
      }
    }
    return out ?? args;
  }
}

/** Returns `args` with secret values replaced by `[REDACTED]` (the same array when nothing matched). */
export function redactArgs(
  args: readonly string[],
  patterns: readonly string[] = DEFAULT_REDACT_PATTERNS,
): readonly string[] {
  return patterns.length === 0 ? args : Redactor.of(patterns).args(args);
}
