/** What a masked value prints as. */
export const MASK = '***';

/**
 * Key names whose values are secrets wherever they appear: SASL and TLS material, tokens, API keys.
 * Names ending in File/Path hold a file name, not the secret, and stay visible.
 */
const SECRET_KEY =
  /(password|passphrase|secret|token|credential|authorization|api[-_]?key|private[-_]?key|cookie)/i;
const FILE_KEY = /(file|path)$/i;
/** `key` alone is a secret only inside a TLS section (`tls.key` PEM); elsewhere it is e.g. a Kafka message key. */
const TLS_SECTION = /^(tls|ssl)$/i;

/** Maps whose every value is treated as a secret (gRPC metadata / HTTP headers carry auth). */
const SECRET_MAPS = new Set(['headers']);

/** Whether the value of key `name` (inside section `parent`) is a secret. */
export function isSecretKey(name: string, parent = ''): boolean {
  if (FILE_KEY.test(name)) return false;
  return SECRET_KEY.test(name) || (name.toLowerCase() === 'key' && TLS_SECTION.test(parent));
}

function maskValue(value: unknown): unknown {
  // Unset stays visibly unset, so `config print` still shows whether a secret is configured.
  if (value === undefined || value === null || value === '') return value;
  return MASK;
}

/** `https://user:secret@host` → `https://user:***@host`. */
export function maskUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]+@/i, `$1:${MASK}@`);
}

function walk(value: unknown, parent: string, secretMap: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, parent, false));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (secretMap || isSecretKey(k, parent)) out[k] = maskValue(v);
      else
        out[k] = walk(v, k, SECRET_MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v));
    }
    return out;
  }
  if (typeof value === 'string') return maskUrlPassword(value);
  return value;
}

/**
 * A deep copy of `config` fit for printing or logging: secret-named keys (SASL passwords, TLS keys,
 * tokens), every value of a `headers` map and URL passwords are replaced by `***`.
 */
export function maskSecrets<T>(config: T): T {
  return walk(config, '', false) as T;
}

/**
 * Stricter than config print, for values quoted in error messages (a wrong value is often a
 * secret put in the wrong place): any key whose name contains one of these, and every value
 * inside a `sasl` or `headers` block.
 */
const MESSAGE_SECRET_KEY = /(password|passphrase|secret|token|credential|authorization|key|cookie)/i;
const MESSAGE_SECRET_BLOCK = /^(sasl|headers)$/i;

/** Whether a value at this key path (`['sinks', 'kafka', 'sasl', 'password']`) is masked in messages. */
export function isSecretPath(parts: readonly string[]): boolean {
  return parts.some((p) => MESSAGE_SECRET_BLOCK.test(p) || MESSAGE_SECRET_KEY.test(p));
}

function maskAll(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return value === undefined || value === '' ? value : MASK;
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  const out = Array.isArray(value)
    ? value.map((v) => maskAll(v, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v, seen)]));
  seen.delete(value);
  return out;
}

function maskInMessage(value: unknown, seen: Set<object>): unknown {
  if (typeof value === 'string') return maskUrlPassword(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  const out = Array.isArray(value)
    ? value.map((v) => maskInMessage(v, seen))
    : Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          isSecretPath([k]) ? maskAll(v, seen) : maskInMessage(v, seen),
        ]),
      );
  seen.delete(value);
  return out;
}

/**
 * `value` (found at key path `parts`) as it may appear in an error or log message: masked whole
 * when the path is secret, else with secret keys and blocks inside it and URL passwords masked.
 * Never throws on cyclic values.
 */
export function maskForMessage(value: unknown, parts: readonly string[]): unknown {
  return isSecretPath(parts) ? maskAll(value, new Set()) : maskInMessage(value, new Set());
}
