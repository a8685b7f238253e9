/**
 * Tests that need root, BPF, containerd or the Kafka mock call `prerequisite(reason)` at the top of
 * their describe block: `reason` is null when everything is there. Outside CI a missing prerequisite
 * skips the block with a printed reason; with CI=true it fails, so CI can never pass by skipping.
 */
export function prerequisite(missing: string | null): boolean {
  if (missing === null) return true;
  if (process.env.CI === 'true') {
    throw new Error(`prerequisite missing in CI: ${missing}`);
  }
  process.stderr.write(`SKIP: ${missing}\n`);
  return false;
}

/** `describe` when the prerequisite holds, else a skipped-with-reason `describe` (a failure in CI). */
export function describeIf(missing: string | null): jest.Describe {
  return prerequisite(missing) ? describe : describe.skip;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
