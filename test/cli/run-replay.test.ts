import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER } from '../../src/events/layout';
import { PREAMBLE_BYTES, pad8 } from '../../src/record/record-format';
import { RecordWriter } from '../../src/record/record-writer';
import { execRecord, exitRecord, recordHeader } from '../helpers/records';
import { BUILT_MAIN, missingBuiltCli } from '../helpers/built-agent';
import { describeIf } from '../helpers/prereq';
import { exitOf } from '../helpers/spawn-ts';

const main = BUILT_MAIN;
const dir = mkdtempSync(join(tmpdir(), 'podtrace-run-replay-'));

function recordingOf(name: string, batch: Buffer): string {
  const file = join(dir, name);
  const w = new RecordWriter(file, recordHeader({ probes: ['process'] }), null);
  w.writeBatch(batch);
  w.close({});
  return file;
}

function configFor(file: string): string {
  const config = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    config,
    [
      `source: { kind: replay, replay: { file: ${JSON.stringify(file)} } }`,
      'enrich: { enabled: false }',
      'telemetry: { enabled: false }',
      'sinks: { console: { enabled: true, format: json } }',
    ].join('\n'),
  );
  return config;
}

function run(config: string): ReturnType<typeof exitOf> {
  return exitOf(
    spawn(process.execPath, [main, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

const h = { pid: 4242, comm: 'sh', tsNs: 1e9 };
const exec = execRecord(h, { ppid: 1, uid: 0, parentStartNs: 1, filename: '/bin/sh', argv: ['sh'] });
const exit = exitRecord(h, { exitCode: 0, lifetimeNs: 5 });

describeIf(missingBuiltCli())('podtrace run (source.kind: replay)', () => {
  it('refuses a corrupt recording with exit 2, naming the file and byte, before replaying anything', async () => {
    const file = recordingOf('corrupt.ptrec', Buffer.concat([exec, exit]));
    const bytes = readFileSync(file);
    const chunk = PREAMBLE_BYTES + pad8(bytes.readUInt32LE(12));
    bytes.writeUInt32LE(0xffffffff, chunk + 4); // the batch's length: aborted Node (rc 134) before
    writeFileSync(file, bytes);
    const result = await run(configFor(file));
    expect(result.stderr).toContain(
      `podtrace: source.replay.file: ${file}: byte ${chunk + 4}: chunk length 4294967295 is larger than any chunk`,
    );
    expect(result.stdout).not.toContain('process.exec');
    expect(result.code).toBe(2);
  });

  it('counts records it cannot decode in the exit summary', async () => {
    const unknown = Buffer.from(exit);
    unknown.writeUInt16LE(250, HEADER.kind); // a kind no podtrace knows
    const file = recordingOf('unknown-kind.ptrec', Buffer.concat([exec, unknown, exit]));
    const result = await run(configFor(file));
    expect(result.stderr).toContain('podtrace: replayed 2 events, 1 malformed records skipped');
    const names = result.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { 'event.name': string })['event.name']);
    expect(names).toEqual(['process.exec', 'process.exit']);
    expect(result.code).toBe(0);
  });

  it('takes the recording from --set and answers run --help', async () => {
    const file = recordingOf('set.ptrec', Buffer.concat([exec, exit]));
    const config = configFor('');
    const result = await exitOf(
      spawn(process.execPath, [main, 'run', '--config', config, '--set', `source.replay.file=${file}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(result.stderr).toContain('podtrace: replayed 2 events, 0 malformed records skipped');
    expect(result.code).toBe(0);
    const help = await exitOf(
      spawn(process.execPath, [main, 'run', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    expect(help.stdout).toContain('--set key.path=value');
    expect(help.code).toBe(0);
  });

  it('redacts secrets in argv for the console (once, at decode)', async () => {
    const argv = ['sh', '-c', 'PGPASSWORD=pw-one psql', '--token', 'tok-two', 'https://u:pw-three@h'];
    const secretExec = execRecord(h, { ppid: 1, uid: 0, parentStartNs: 1, filename: '/bin/sh', argv });
    const file = recordingOf('secrets.ptrec', secretExec);
    const result = await run(configFor(file));
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout.trim()) as Record<string, unknown>;
    expect(line['process.command_args']).toEqual([
      'sh',
      '-c',
      'PGPASSWORD=[REDACTED] psql',
      '--token',
      '[REDACTED]',
      'https://u:[REDACTED]@h',
    ]);
    for (const secret of ['pw-one', 'tok-two', 'pw-three'])
      expect(result.stdout + result.stderr).not.toContain(secret);
  });
});
