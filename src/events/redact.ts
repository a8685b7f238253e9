/**
 * Redaction of secrets in command lines. A rule either names a flag whose *next* argument (or
 * `--flag=value` part) is secret, or is a pattern `*_KEY=` style matched against `NAME=value`.
 */
export const DEFAULT_REDACT_PATTERNS: readonly string[] = ['--password', '--token', '*_KEY=', '*_SECRET='];
export const REDACTED = '[REDACTED]';

interface CompiledRules {
  flags: Set<string>;
  assignments: RegExp[];
}

// Keyed by the pattern list itself: callers pass the same (config) array for every event, so the
// lookup costs no string building per exec event.
const compiledCache = new WeakMap<readonly string[], CompiledRules>();

function compile(patterns: readonly string[]): CompiledRules {
  const hit = compiledCache.get(patterns);
  if (hit) return hit;
  const flags = new Set<string>();
  const assignments: RegExp[] = [];
  for (const p of patterns) {
    if (p.endsWith('=')) {
      const body = p
        .slice(0, -1)
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^=]*');
      assignments.push(new RegExp(`^(${body}=)(.+)$`));
    } else flags.add(p);
  }
  const rules = { flags, assignments };
  compiledCache.set(patterns, rules);
  return rules;
}

/** Returns `args` with secret values replaced by `[REDACTED]` (the same array when nothing matched). */
export function redactArgs(
  args: readonly string[],
  patterns: readonly string[] = DEFAULT_REDACT_PATTERNS,
): readonly string[] {
  const { flags, assignments } = compile(patterns);
  let out: string[] | undefined;
  const set = (i: number, v: string): void => {
    out ??= args.slice();
    out[i] = v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (flags.has(a) && i + 1 < args.length) {
      set(i + 1, REDACTED);
      i++;
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      if (flags.has(a.slice(0, eq))) {
        set(i, `${a.slice(0, eq + 1)}${REDACTED}`);
        continue;
      }
      for (const re of assignments) {
        const m = re.exec(a);
        if (m) {
          set(i, `${m[1] ?? ''}${REDACTED}`);
          break;
        }
      }
    }
  }
  return out ?? args;
}
