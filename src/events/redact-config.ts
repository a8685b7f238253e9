import type { JsonSchema } from '../config/schema-types';
import { DEFAULT_REDACT_PATTERNS, Redactor } from './redact';

/** The top-level `redact:` section: applied once per exec event, before every sink and the console. */
export interface RedactConfig {
  /** Case-insensitive patterns (see src/events/redact.ts); [] turns redaction off. */
  patterns: string[];
}

export const redactSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    patterns: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [...DEFAULT_REDACT_PATTERNS],
    },
  },
};

/** Patterns of none of the four shapes, each naming its key. */
export function redactConfigProblems(config: RedactConfig, key = 'redact.patterns'): string[] {
  const problems: string[] = [];
  config.patterns.forEach((p, i) => {
    try {
      new Redactor([p]);
    } catch {
      problems.push(
        `${key}[${i}]: ${JSON.stringify(p)} is not a pattern (--flag, NAME=, Header: or *://*:*@)`,
      );
    }
  });
  return problems;
}

/**
 * The one Redactor the agent applies at decode: `redact.patterns`, plus the deprecated
 * `sinks.otlp.redact` when set (with a warning: it used to cover the OTLP sink only, now its
 * patterns cover every sink and the console).
 */
export function agentRedactor(
  config: { redact: RedactConfig; sinks: { otlp: { redact?: string[] } } },
  warn: (message: string) => void,
): Redactor {
  const old = config.sinks.otlp.redact;
  if (old === undefined) return new Redactor(config.redact.patterns);
  warn(
    'sinks.otlp.redact is deprecated: move its patterns to the top-level redact.patterns (they now apply to every sink and the console)',
  );
  return new Redactor([...new Set([...config.redact.patterns, ...old])]);
}
