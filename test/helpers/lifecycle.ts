import type { Component } from '../../src/core/component';
import type { EventBatch } from '../../src/events/event';

export interface LifecycleSuiteOptions {
  /** For sinks: a batch fed to `consume()` while running and after shutdown. */
  batch?: EventBatch;
}

function asSink(c: Component): { consume(batch: EventBatch): void } | undefined {
  const maybe = c as Partial<{ consume: (batch: EventBatch) => void }>;
  return typeof maybe.consume === 'function'
    ? (c as unknown as { consume(batch: EventBatch): void })
    : undefined;
}

/**
 * The lifecycle contract of src/core/component.ts, as a table of cases every source, enricher and
 * sink must pass. Call it inside the component's own `describe`:
 *
 *   describe('KafkaSink', () => { lifecycleSuite('KafkaSink', () => new KafkaSink(...), { batch }); });
 *
 * `factory` builds a fresh component per case (it may return a promise). Components that need a
 * prerequisite (root, a broker) are wrapped by the caller in `describeIf(...)`.
 */
export function lifecycleSuite(
  name: string,
  factory: () => Component | Promise<Component>,
  options: LifecycleSuiteOptions = {},
): void {
  const cases: [title: string, run: (c: Component) => Promise<void>][] = [
    [
      'has a non-empty name',
      async (c) => {
        expect(typeof c.name).toBe('string');
        expect(c.name.length).toBeGreaterThan(0);
        await c.shutdown();
      },
    ],
    [
      'shuts down without having started',
      async (c) => {
        await expect(c.shutdown()).resolves.toBeUndefined();
      },
    ],
    [
      'starts, then shuts down twice, both resolving',
      async (c) => {
        await c.start();
        await expect(c.shutdown()).resolves.toBeUndefined();
        await expect(c.shutdown()).resolves.toBeUndefined();
      },
    ],
    [
      'does not let a concurrent second shutdown resolve before the first',
      async (c) => {
        await c.start();
        let firstDone = false;
        const first = c.shutdown().then(() => {
          firstDone = true;
        });
        await c.shutdown();
        expect(firstDone).toBe(true);
        await first;
      },
    ],
    [
      'shuts down while start is still in progress',
      async (c) => {
        const started = c.start();
        await expect(c.shutdown()).resolves.toBeUndefined();
        await started.catch(() => undefined);
      },
    ],
  ];
  const { batch } = options;
  if (batch !== undefined) {
    cases.push([
      'consumes while running and after shutdown without throwing',
      async (c) => {
        const sink = asSink(c);
        expect(sink).toBeDefined();
        await c.start();
        expect(() => sink!.consume(batch)).not.toThrow();
        await c.shutdown();
        expect(() => sink!.consume(batch)).not.toThrow();
      },
    ]);
  }

  describe(`${name} lifecycle`, () => {
    it.each(cases)('%s', async (_title, run) => {
      await run(await factory());
    });
  });
}
