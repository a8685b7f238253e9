import { NODE, lastJson, start, waitForOutput, workerPath, runJson } from '../lib/proc';
import { fmtMb, fmtPct, fmtRate, median } from '../lib/stats';
import type { DrainResult } from '../workers/drain-worker';
import type { BenchContext, ScenarioResult } from './types';

/** Bytes one vfork+_exit iteration puts in the ring: process.fork + process.exit records, 72 B each plus the 8 B ring header. */
const BYTES_PER_OP = 2 * (72 + 8);

interface Consumer {
  name: string;
  spawn: () => ReturnType<typeof start>;
}

/** Fills the ring with `ops` generator iterations split over both CPUs (the consumer is not draining). */
async function fill(ctx: BenchContext, ops: number): Promise<number> {
  const half = Math.ceil(ops / 2);
  const done = await Promise.all(
    [0, 1].map((cpu) =>
      runJson<{ ops: number }>(ctx.tools.gen, ['vfork', '0', String(half), String(cpu)], 'generator'),
    ),
  );
  return done.reduce((a, r) => a + r.ops, 0);
}

async function backlogRun(
  ctx: BenchContext,
  c: Consumer,
  ops: number,
): Promise<{ rate: number; lost: number; raw: unknown }> {
  const child = c.spawn();
  await waitForOutput(child, /^ready$/m, c.name);
  const done = await fill(ctx, ops);
  // Each op leaves a process.fork and a process.exit record; other processes add a few more.
  const expected = done * 2;
  child.proc.stdin?.write(`go ${expected}\n`);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${c.name}: exit ${String(code)}\n${child.stderr().slice(-2000)}`);
  const r = lastJson<DrainResult>(child.stdout(), c.name);
  if (r.records < expected) throw new Error(`${c.name}: took ${r.records} of ${expected} records`);
  // Records the addon drained before the clock started are not counted (their hand-off time is).
  const measured = expected - (r.predrained ?? 0);
  return {
    rate: measured > 0 && r.seconds > 0 ? measured / r.seconds : NaN,
    lost: r.lost,
    raw: { ...r, expected },
  };
}

async function liveRun(
  ctx: BenchContext,
  c: Consumer,
  seconds: number,
): Promise<{ rate: number; lost: number; cpuPerM: number; rss: number; allocations: number; raw: unknown }> {
  const child = c.spawn();
  await waitForOutput(child, /^ready$/m, c.name);
  const gen = await runJson<{ ops: number; opsPerSec: number }>(
    ctx.tools.gen,
    ['vfork', String(Math.round(seconds * 1000 - 300)), '0', '0'],
    'generator',
  );
  const code = await child.exited;
  if (code !== 0) throw new Error(`${c.name}: exit ${String(code)}\n${child.stderr().slice(-2000)}`);
  const r = lastJson<DrainResult>(child.stdout(), c.name);
  return {
    rate: r.records / r.seconds,
    lost: r.lost,
    cpuPerM: r.cpuSeconds / (r.records / 1e6),
    rss: r.maxRssBytes ?? NaN,
    allocations: r.allocations ?? NaN,
    raw: { ...r, generator: gen },
  };
}

/**
 * Scenario 1, drain ceiling. Backlog: the ring is filled while nobody drains, then each consumer
 * empties it as fast as it can — the drain rate is the highest event rate it sustains before the
 * kernel starts losing records. Live: the generator runs on CPU 0 at full speed while the consumer
 * drains on its 2 ms interval; reports the delivered rate, losses and consumer CPU per million.
 */
export async function drainScenario(ctx: BenchContext): Promise<ScenarioResult> {
  // The addon drains up to maxPendingBatches × batchBytes (16 MiB by default) before JS takes any; the
  // ring must be much larger for the backlog figure to mean something (smoke runs only check it works).
  const ring = ctx.smoke ? 8 * 1024 * 1024 : 64 * 1024 * 1024;
  const ops = Math.floor((ring * 0.8) / BYTES_PER_OP);
  const liveSeconds = ctx.smoke ? 1.5 : 5;
  const consumers: Consumer[] = [
    {
      name: 'C libbpf consumer',
      spawn: () => start(ctx.tools.cConsumer, [ctx.tools.processObject, String(ring), 'backlog']),
    },
    {
      name: 'addon → JS',
      spawn: () =>
        start(NODE, [
          workerPath('drain-worker'),
          JSON.stringify({ mode: 'backlog', ringBufferBytes: ring, decode: false }),
        ]),
    },
    {
      name: 'addon → JS + decode',
      spawn: () =>
        start(NODE, [
          workerPath('drain-worker'),
          JSON.stringify({ mode: 'backlog', ringBufferBytes: ring, decode: true }),
        ]),
    },
  ];
  const liveConsumers: Consumer[] = [
    {
      name: 'C libbpf consumer',
      spawn: () =>
        start(ctx.tools.cConsumer, [
          ctx.tools.processObject,
          String(ring),
          'live',
          String(liveSeconds * 1000),
        ]),
    },
    {
      name: 'addon → JS + decode',
      spawn: () =>
        start(NODE, [
          workerPath('drain-worker'),
          JSON.stringify({ mode: 'live', ringBufferBytes: ring, decode: true, seconds: liveSeconds }),
        ]),
    },
    {
      name: 'addon → JS + decode, pooled (nextInto)',
      spawn: () =>
        start(NODE, [
          workerPath('drain-worker'),
          JSON.stringify({
            mode: 'live',
            ringBufferBytes: ring,
            decode: true,
            seconds: liveSeconds,
            pooled: true,
          }),
        ]),
    },
  ];
  const backlog: Record<string, { rates: number[]; lost: number[]; raw: unknown[] }> = {};
  for (let rep = 0; rep < ctx.reps; rep++) {
    // Alternate the order so drift on a noisy machine does not favour one consumer.
    const order = rep % 2 === 0 ? consumers : [...consumers].reverse();
    for (const c of order) {
      const r = await backlogRun(ctx, c, ops);
      const b = (backlog[c.name] ??= { rates: [], lost: [], raw: [] });
      b.rates.push(r.rate);
      b.lost.push(r.lost);
      b.raw.push(r.raw);
      ctx.log(`  drain backlog ${c.name}: ${fmtRate(r.rate)} (lost ${r.lost})`);
    }
  }
  const live: Record<
    string,
    {
      rates: number[];
      lost: number[];
      cpuPerM: number[];
      rss: number[];
      allocations: number[];
      raw: unknown[];
    }
  > = {};
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const c of rep % 2 === 0 ? liveConsumers : [...liveConsumers].reverse()) {
      const r = await liveRun(ctx, c, liveSeconds);
      const l = (live[c.name] ??= { rates: [], lost: [], cpuPerM: [], rss: [], allocations: [], raw: [] });
      l.rates.push(r.rate);
      l.rss.push(r.rss);
      l.allocations.push(r.allocations);
      l.lost.push(r.lost);
      l.cpuPerM.push(r.cpuPerM);
      l.raw.push(r.raw);
      ctx.log(`  drain live ${c.name}: ${fmtRate(r.rate)} (lost ${r.lost}, ${r.cpuPerM.toFixed(3)} CPU-s/M)`);
    }
  }
  const cRate = median(backlog['C libbpf consumer']?.rates ?? []);
  const rows = consumers.map((c) => {
    const m = median(backlog[c.name]?.rates ?? []);
    const lost = Math.max(...(backlog[c.name]?.lost ?? [0]));
    return {
      scenario: '1 drain ceiling',
      case: `backlog: ${c.name}`,
      value: fmtRate(m),
      detail: `${fmtPct(m / cRate)} of C; kernel lost ${lost}; ring ${ring >> 20} MiB, ${ops} vfork ops`,
    };
  });
  for (const c of liveConsumers) {
    const l = live[c.name];
    rows.push({
      scenario: '1 drain ceiling',
      case: `live (gen on CPU 0): ${c.name}`,
      value: fmtRate(median(l?.rates ?? [])),
      detail: `kernel lost ${Math.max(...(l?.lost ?? [0]))}; consumer ${median(l?.cpuPerM ?? []).toFixed(3)} CPU-s per M events${c.name.startsWith('addon') ? `; peak RSS ${fmtMb(median(l?.rss ?? []))}, ${median(l?.allocations ?? []).toFixed(0)} batch buffers allocated` : ''}`,
    });
  }
  return {
    name: 'drain',
    rows,
    data: {
      ringBufferBytes: ring,
      fillOps: ops,
      backlog,
      live,
      ratioAddonToC: median(backlog['addon → JS']?.rates ?? []) / cRate,
      ratioAddonDecodeToC: median(backlog['addon → JS + decode']?.rates ?? []) / cRate,
    },
  };
}
