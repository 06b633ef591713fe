/** The shape of a benchmark run as written to bench/results/*.json. */

import type { FfiResult } from "../sections/ffi.ts";
import type { InstructionResult } from "../sections/instructions.ts";
import type { LatencyResult } from "../sections/latency.ts";
import type { MemoryRow } from "../sections/memory.ts";
import type { RateResult } from "../sections/rate.ts";

/** Where and when the run was taken. */
export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  kernel: string;
  bun: string;
  /** 1-minute load average when the run started (other work on the machine). */
  loadAtStart: number;
  /** The commit measured. */
  commit: string;
  /** Library files (src/, zig/) that differed from the commit: uncommitted work that was measured. */
  uncommitted: string[];
}

/** One target of the issue, checked against this run's figures. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

/** A whole run. */
export interface BenchResults {
  mode: "full" | "quick";
  machine: Machine;
  seconds: number;
  latency: LatencyResult;
  rate: RateResult;
  ffi: FfiResult;
  memory: MemoryRow[];
  /** Section 5 (absent in results from before it existed; null when skipped). */
  instructions?: InstructionResult | null;
  instructionsSkipped?: string;
  targets: TargetCheck[];
}
