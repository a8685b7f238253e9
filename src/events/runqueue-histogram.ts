/**
 * Percentiles of a log2 histogram (slot i counts values in [2^i, 2^(i+1)) ns, slot 0 also 0 and 1),
 * interpolated linearly inside the slot and never above the observed maximum.
 */
export function log2Percentile(slots: readonly number[], count: number, maxNs: number, q: number): number {
  if (count <= 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < slots.length; i++) {
    const n = slots[i] ?? 0;
    if (n === 0) continue;
    if (seen + n >= rank) {
      const low = i === 0 ? 0 : 2 ** i;
      const high = 2 ** (i + 1);
      const value = low + ((high - low) * (rank - seen)) / n;
      return Math.min(Math.round(value), maxNs);
    }
    seen += n;
  }
  return maxNs;
}
