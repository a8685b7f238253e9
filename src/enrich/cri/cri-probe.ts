import { existsSync } from 'node:fs';
import { errorMessage } from '../../core/errors';
import { DEFAULT_CRI_ENDPOINTS } from '../enrich-config';
import { CriClient, criTarget } from './cri-client';

export interface CriProbeResult {
  /** The endpoint that answered Version, null when none did. */
  endpoint: string | null;
  runtimeName: string | null;
  runtimeVersion: string | null;
  runtimeApiVersion: string | null;
  /** Every endpoint tried, in order, with why it was not taken. */
  tried: { endpoint: string; error: string | null }[];
}

/**
 * Finds the CRI endpoint: the configured one, else the standard sockets in the seeds' order
 * (containerd, legacy containerd, dockershim, CRI-O, k3s). A socket counts only when it answers
 * `Version`. Used at start-up and by `podtrace check`.
 */
export async function probeCri(
  endpoint: string,
  timeoutMs = 2000,
  candidates: readonly string[] = DEFAULT_CRI_ENDPOINTS,
): Promise<CriProbeResult> {
  const list = endpoint !== '' ? [endpoint] : candidates;
  const result: CriProbeResult = {
    endpoint: null,
    runtimeName: null,
    runtimeVersion: null,
    runtimeApiVersion: null,
    tried: [],
  };
  for (const ep of list) {
    if (!existsSync(criTarget(ep).socketPath)) {
      result.tried.push({ endpoint: ep, error: 'no such socket' });
      continue;
    }
    const client = new CriClient(ep, timeoutMs);
    try {
      const v = await client.version();
      result.tried.push({ endpoint: ep, error: null });
      Object.assign(result, {
        endpoint: ep,
        runtimeName: v.runtimeName,
        runtimeVersion: v.runtimeVersion,
        runtimeApiVersion: v.runtimeApiVersion,
      });
      return result;
    } catch (err) {
      result.tried.push({ endpoint: ep, error: errorMessage(err) });
    } finally {
      client.close();
    }
  }
  return result;
}
