/** Linux signal numbers (x86_64 and arm64 share them) and the si_code / result values of signal_generate. */
const SIGNAL_NAMES = [
  '',
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];
/** The kernel's first real-time signal (glibc reserves two and calls 34 its SIGRTMIN). */
const SIGRTMIN = 32;

export function signalName(signal: number): string {
  if (signal > 0 && signal < SIGRTMIN) return SIGNAL_NAMES[signal] as string;
  if (signal >= SIGRTMIN && signal <= 64)
    return signal === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${signal - SIGRTMIN}`;
  return `SIG${signal}`;
}

/** The signal number of a name (`SIGTERM`, `TERM`, `SIGRTMIN+2`, or a number), or null. */
export function signalNumber(name: string): number | null {
  const n = name.toUpperCase();
  if (/^\d+$/.test(n)) {
    const v = Number(n);
    return v > 0 && v <= 64 ? v : null;
  }
  const full = n.startsWith('SIG') ? n : `SIG${n}`;
  const i = SIGNAL_NAMES.indexOf(full);
  if (i > 0) return i;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(full);
  if (rt !== null) {
    const v = SIGRTMIN + Number(rt[1] ?? 0);
    return v <= 64 ? v : null;
  }
  return null;
}

const SI_CODES: Readonly<Record<number, string>> = {
  0: 'SI_USER',
  128: 'SI_KERNEL',
  [-1]: 'SI_QUEUE',
  [-2]: 'SI_TIMER',
  [-3]: 'SI_MESGQ',
  [-4]: 'SI_ASYNCIO',
  [-5]: 'SI_SIGIO',
  [-6]: 'SI_TKILL',
};

/** si_code as a name for the sender-side codes; fault and child codes (> 0) stay numbers. */
export function signalCodeName(code: number): string {
  return SI_CODES[code] ?? String(code);
}

const RESULTS = ['delivered', 'ignored', 'already_pending', 'overflow_fail', 'lose_info'];

/** signal_generate's result (TRACE_SIGNAL_*). */
export function signalResultName(result: number): string {
  return RESULTS[result] ?? `result_${result}`;
}
