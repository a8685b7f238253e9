import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './proc';

export interface OtlpReceiverProcess {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  close(): void;
}

/** Forks bench/otlp-bench-receiver.ts (a gRPC TraceService that does not decode) and waits for its port. */
export async function startOtlpReceiver(): Promise<OtlpReceiverProcess> {
  const receiver = fork(join(ROOT, 'dist', 'bench', 'otlp-bench-receiver.js'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    receiver.once('message', (m: { port: number }) => resolve(m.port));
    receiver.once('exit', (code) => reject(new Error(`OTLP bench receiver exited (${String(code)})`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      if (receiver.connected) receiver.disconnect();
    },
  };
}
