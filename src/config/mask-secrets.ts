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
function maskUrlPassword(value: string): string {
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
