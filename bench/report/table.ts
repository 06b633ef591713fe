/** The text tables `bun run bench` prints (also pasted into the README). */
import type { Spread } from "../lib/stats.ts";
import type { RateRow } from "../sections/rate.ts";
import type { BenchResults } from "./types.ts";

/** Lays out rows as an aligned Markdown table (numbers right-aligned). */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[-+~]?[\d.,]+\s*(x|ms|%|MB|\/s)?$|^-$|^n\/a$/.test(r[i] ?? "")),
  );
  const cell = (text: string, i: number): string => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: string[]): string => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : "-");
const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "-");

/** Section 1 as a table per delay. */
export function latencyTable(results: BenchResults): string {
  const parts: string[] = [];
  const delays = [...new Set(results.latency.rows.map((r) => r.delayMs))];
  for (const delay of delays) {
    const rows = results.latency.rows.filter((r) => r.delayMs === delay);
    const rtt = rows[0]!.rttMs;
    parts.push(`One-way delay ${delay} ms (RTT ${rtt} ms), n = ${rows[0]!.n} per client:\n`);
    parts.push(
      markdownTable(
        ["client", "median ms", "p99 ms", "vs Bun.connect", "limit", "over limit ms", "in RTTs", "TFO proven"],
        rows.map((r) => [
          r.client,
          ms(r.medianMs),
          ms(r.p99Ms),
          r.baseline === r.client ? "1.00x" : `${x(r.ratio)}${r.baseline.includes("TLS") ? " (TLS)" : ""}`,
          `${r.limitMs / rtt} RTT`,
          ms(r.overLimitMs),
          (r.medianMs / rtt).toFixed(2),
          r.tfoProven === null ? "-" : `${r.tfoProven}/${r.n}`,
        ]),
      ),
    );
    parts.push("");
  }
  return parts.join("\n");
}

/** `1.12x (0.95-1.30)`: a same-round ratio's median and spread. */
function ratio(value: Spread | undefined): string {
  if (value === undefined || !Number.isFinite(value.median)) return "-";
  return `${value.median.toFixed(2)}x (${value.low.toFixed(2)}-${value.high.toFixed(2)})`;
}

/** Rate rows as a table: per concurrency the rate, the same-round ratios to Bun.connect and C, CPU. */
function rateRows(rows: RateRow[]): string {
  const concs = [...new Set(rows.map((r) => r.conc))];
  const clients = [...new Set(rows.map((r) => r.client))];
  const header = ["client"];
  for (const c of concs)
    header.push(`c=${c} conn/s`, `c=${c} vs Bun (spread)`, `c=${c} vs C`, `c=${c} CPU µs/conn`, `c=${c} CPU vs Bun`);
  header.push("TFO share");
  const table = clients.map((client) => {
    const cells = [client];
    let share: number | null = null;
    for (const c of concs) {
      const row = rows.find((r) => r.client === client && r.conc === c);
      if (row === undefined) cells.push("n/a", "-", "-", "-", "-");
      else {
        const spreadOf = row.vsBunSpread ?? { median: row.vsBun, low: row.vsBun, high: row.vsBun };
        cells.push(row.rate.toFixed(0), ratio(spreadOf), x(row.vsC));
        cells.push(row.cpuUs == null ? "-" : row.cpuUs.toFixed(1), row.cpuVsBun == null ? "-" : ratio(row.cpuVsBun));
        share = row.tfoShare;
      }
    }
    cells.push(share === null ? "-" : `${(share * 100).toFixed(0)}%`);
    return cells;
  });
  return markdownTable(header, table);
}

/** Section 2: loopback, then the relay link at each RTT. */
export function rateTable(results: BenchResults): string {
  const parts = ["Loopback:\n", rateRows(results.rate.rows)];
  for (const link of results.rate.link ?? []) {
    parts.push(`\nRelay link (1500 MTU), RTT ${link.rttMs} ms:\n`, rateRows(link.rows));
  }
  return parts.join("\n");
}

/** Section 3. */
export function ffiTable(results: BenchResults): string {
  const { timing, callgrind, syscalls } = results.ffi;
  const counted = (value: Spread | undefined): string =>
    value === undefined ? "-" : `${value.median.toFixed(0)} (${value.low.toFixed(0)}-${value.high.toFixed(0)})`;
  const rows = [
    [
      "socketFastopenConnect6 (wrapper: checks + FFI)",
      `${timing.wrapperNs.toFixed(0)} ns`,
      counted(callgrind?.wrapperSpread),
    ],
    ["raw FFI symbol (no checks)", `${timing.rawFfiNs.toFixed(0)} ns`, counted(callgrind?.rawSpread)],
    [
      "C calling fo_socket_fastopen_connect6",
      `${timing.cNs.toFixed(0)} ns`,
      callgrind == null ? "-" : callgrind.c.toFixed(0),
    ],
  ];
  const parts = [
    `Per call on a closed fd (one failing syscall inside), best of ${timing.runs} x ${timing.calls} calls; callgrind:`,
    callgrind == null
      ? ""
      : `median (lowest-highest) of ${callgrind.rounds} windows of ${callgrind.calls} calls per path in one process` +
        ` (C: instructions inside the export per call):\n`,
    markdownTable(["path", "time/call", "instructions/call (callgrind)"], rows),
  ];
  if (callgrind?.checks !== undefined)
    parts.push(`\nThe wrapper's checks, same-round difference: ${counted(callgrind.checks)} instructions per call.`);
  if (results.ffi.callgrindSkipped !== undefined) parts.push(`\ncallgrind: ${results.ffi.callgrindSkipped}`);
  if (syscalls !== null) {
    for (const where of ["loopback", "link"] as const) {
      const rows = syscalls.filter((r) => (r.where ?? "loopback") === where);
      if (rows.length === 0) continue;
      const names = [...new Set(rows.flatMap((r) => Object.keys(r.perConnection)))].sort();
      parts.push(
        where === "loopback"
          ? "\nSyscalls per connection on loopback (strace -f -c, concurrency 1, runtime threads and memory" +
              " management left out):\n"
          : "\nSyscalls per connection over the relay link, RTT 2 ms (the same count):\n",
      );
      parts.push(
        markdownTable(
          ["client", "total", ...names],
          rows.map((r) => [
            r.client,
            r.total.toFixed(1),
            ...names.map((n) => (r.perConnection[n] === undefined ? "-" : String(r.perConnection[n]))),
          ]),
        ),
      );
    }
  }
  return parts.join("\n");
}

/** Section 5: instructions per connection, steady state and JIT warm-up. */
export function instructionTable(results: BenchResults): string {
  const cg = results.instructions;
  if (cg == null) return results.instructionsSkipped ?? "not measured";
  const k = (v: number): string => `${(v / 1000).toFixed(1)}k`;
  const parts = [
    `Steady state: after ${cg.warm} connections per client, ${cg.rounds} rounds of ${cg.n} connections per client` +
      " in one process, alternating; median (lowest-highest):\n",
    markdownTable(
      ["client", "concurrency", "instructions/connection", "mean", "vs Bun.connect (same round)"],
      cg.rows.map((r) => [
        r.client,
        String(r.conc),
        `${k(r.perConnection.median)} (${k(r.perConnection.low)}-${k(r.perConnection.high)})`,
        r.mean === undefined ? "-" : k(r.mean),
        ratio(r.vsBun),
      ]),
    ),
  ];
  if (cg.warmup.length > 0) {
    const first = cg.warmup[0]!;
    parts.push(
      `\nJIT warm-up: a fresh process per client, its first ${first.connections} connections (one at a time)` +
        ` counted in windows of ${first.step}; excess = instructions beyond that many connections at the` +
        " steady-state count (concurrency 1):\n",
    );
    const m = (v: number): string => `${(v / 1e6).toFixed(0)}M`;
    parts.push(
      markdownTable(
        [
          "client",
          "start-up",
          `first ${first.step}`,
          `last ${first.step}`,
          `first ${first.connections} total`,
          "excess",
        ],
        cg.warmup.map((w) => [
          w.client,
          m(w.startup),
          m(w.windows[0] ?? Number.NaN),
          m(w.windows[w.windows.length - 1] ?? Number.NaN),
          m(w.windows.reduce((a, b) => a + b, 0)),
          m(w.excess),
        ]),
      ),
    );
  }
  return parts.join("\n");
}

/** Section 4. */
export function memoryTable(results: BenchResults): string {
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  return markdownTable(
    [
      "client",
      "connections",
      "RSS before MB",
      "RSS after MB",
      "growth MB (median of runs)",
      "fds before",
      "fds after",
      "growth vs Bun.connect",
      "heap B allocated/conn",
      "allocated vs Bun.connect",
      "heap objects growth",
      "TFO in SYN",
    ],
    results.memory.map((r) => {
      const first = r.series[0]!;
      const last = r.series[r.series.length - 1]!;
      const bun = results.memory.find((b) => b.client === "Bun.connect");
      return [
        r.client,
        String(r.connections),
        mb(first.rssBytes),
        mb(last.rssBytes),
        (Math.abs(r.rssGrowthMB) < 0.05 ? 0 : r.rssGrowthMB).toFixed(1),
        String(first.fds),
        String(last.fds),
        r.rssVsBun !== undefined ? ratio(r.rssVsBun) : bun === undefined ? "-" : x(r.rssGrowthMB / bun.rssGrowthMB),
        r.allocatedPerConnection === undefined ? "-" : r.allocatedPerConnection.median.toFixed(0),
        r.allocatedVsBun === undefined ? "-" : ratio(r.allocatedVsBun),
        String(r.objectGrowth),
        String(r.tfoActive),
      ];
    }),
  );
}

/** The targets with met/missed. */
export function targetTable(results: BenchResults): string {
  return markdownTable(
    ["target", "measured", ""],
    results.targets.map((t) => [t.target, t.measured, t.met ? "met" : "MISSED"]),
  );
}

/** Everything, as printed at the end of a run. */
export function fullReport(results: BenchResults): string {
  const m = results.machine;
  const changed = m.uncommitted.length > 0 ? ` with uncommitted changes to ${m.uncommitted.join(", ")}` : "";
  return [
    `fastopen benchmarks (${results.mode}), ${m.date}, ${m.cpu} x ${m.cores}, Linux ${m.kernel}, Bun ${m.bun},` +
      ` load ${m.loadAtStart.toFixed(2)} at start`,
    `commit ${m.commit}${changed}`,
    "",
    "## 1. Time from the connect call to the first response byte (emulated link)",
    "",
    latencyTable(results),
    "## 2. Connections per second against the C server (loopback in a private namespace with TFO, relay link)",
    "",
    rateTable(results),
    ...results.rate.notes.map((n) => `- ${n}`),
    "",
    "## 3. Cost of the FFI path",
    "",
    ffiTable(results),
    "",
    "## 4. Memory and descriptors",
    "",
    memoryTable(results),
    "",
    "## 5. User-space instructions per connection (callgrind)",
    "",
    instructionTable(results),
    "",
    "## Targets (reported, not asserted)",
    "",
    targetTable(results),
    "",
  ].join("\n");
}
