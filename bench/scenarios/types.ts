import type { AgentScenarioOptions } from './agent';
import type { NativeTools } from '../lib/native-build';

export interface BenchContext {
  smoke: boolean;
  /** Repetitions per measurement (the median is reported). */
  reps: number;
  tools: NativeTools;
  log: (line: string) => void;
  /** Narrows the agent scenario (`--agent-rates`, `--agent-sets`, `--agent-node-flags`). */
  agent: AgentScenarioOptions;
}

/** One printed row: the scenario, what was measured, the figure, and details. */
export interface Row {
  scenario: string;
  case: string;
  value: string;
  detail: string;
}

export interface ScenarioResult {
  name: string;
  rows: Row[];
  /** Everything measured, for bench/results/*.json. */
  data: unknown;
  /** Why the scenario could not run (prerequisite missing); rows are then empty. */
  skipped?: string;
}
