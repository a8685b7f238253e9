/** Anything with a string `write`, e.g. process.stdout or a SonicBoom destination. */
export interface LineSink {
  write(text: string): unknown;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** pino's own fields that the text line shows in its fixed columns (or not at all). */
const FIXED_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'component', 'err']);

function showField(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/**
 * Turns pino's JSON lines into one readable line each, for people at a terminal:
 *   `12:04:05.123 WARN  [kafka] broker unreachable, retrying broker=k1:9092 attempt=3`
 * followed by the error's stack, indented, when the record carries `err`. Anything that is not a
 * JSON object is passed through unchanged. No dependency: pino-pretty would be one more package in
 * the runtime image for a format only terminals use.
 */
export class TextLogStream {
  constructor(private readonly out: LineSink) {}

  write(line: string): void {
    this.out.write(TextLogStream.format(line));
  }

  static format(line: string): string {
    let rec: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
      rec = parsed as Record<string, unknown>;
    } catch {
      return line;
    }
    const time = typeof rec.time === 'string' ? (rec.time.split('T')[1]?.replace(/Z$/, '') ?? rec.time) : '';
    const level = (LEVEL_NAMES[Number(rec.level)] ?? String(rec.level)).padEnd(5);
    const component = typeof rec.component === 'string' ? ` [${rec.component}]` : '';
    const msg = typeof rec.msg === 'string' ? ` ${rec.msg}` : '';
    const fields = Object.entries(rec)
      .filter(([k]) => !FIXED_FIELDS.has(k))
      .map(([k, v]) => ` ${k}=${showField(v)}`)
      .join('');
    let text = `${time} ${level}${component}${msg}${fields}\n`;
    const err = rec.err as { message?: unknown; stack?: unknown } | undefined;
    if (err !== undefined && err !== null && typeof err === 'object') {
      const detail = typeof err.stack === 'string' ? err.stack : String(err.message);
      text += detail
        .split('\n')
        .map((l) => `    ${l}\n`)
        .join('');
    }
    return text;
  }
}
