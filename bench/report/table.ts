/** The text tables `bun run bench` prints (also pasted into the README). */
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

/** Section 2 as one table: both concurrencies side by side. */
export function rateTable(results: BenchResults): string {
  const concs = [...new Set(results.rate.rows.map((r) => r.conc))];
  const clients = [...new Set(results.rate.rows.map((r) => r.client))];
  const header = ["client"];
  for (const c of concs) header.push(`c=${c} conn/s`, `c=${c} vs Bun`, `c=${c} vs C`);
  header.push("TFO share");
  const rows = clients.map((client) => {
    const cells = [client];
    let share: number | null = null;
    for (const c of concs) {
      const row = results.rate.rows.find((r) => r.client === client && r.conc === c);
      if (row === undefined) cells.push("n/a", "-", "-");
      else {
        cells.push(row.rate.toFixed(0), x(row.vsBun), x(row.vsC));
        share = row.tfoShare;
      }
    }
    cells.push(share === null ? "-" : `${(share * 100).toFixed(0)}%`);
    return cells;
  });
  return markdownTable(header, rows);
}

/** Section 3. */
export function ffiTable(results: BenchResults): string {
  const { timing, callgrind, syscalls } = results.ffi;
  const rows = [
    [
      "socketFastopenConnect6 (wrapper: checks + FFI)",
      `${timing.wrapperNs.toFixed(0)} ns`,
      callgrind === null ? "-" : callgrind.wrapper.toFixed(0),
    ],
    [
      "raw FFI symbol (no checks)",
      `${timing.rawFfiNs.toFixed(0)} ns`,
      callgrind === null ? "-" : callgrind.raw.toFixed(0),
    ],
    [
      "C calling fo_socket_fastopen_connect6",
      `${timing.cNs.toFixed(0)} ns`,
      callgrind === null ? "-" : callgrind.c.toFixed(0),
    ],
  ];
  const parts = [
    `Per call on a closed fd (one failing syscall inside), best of ${timing.runs} x ${timing.calls} calls:\n`,
    markdownTable(["path", "time/call", "instructions/call (callgrind)"], rows),
  ];
  if (results.ffi.callgrindSkipped !== undefined) parts.push(`\ncallgrind: ${results.ffi.callgrindSkipped}`);
  if (syscalls !== null) {
    const names = [...new Set(syscalls.flatMap((r) => Object.keys(r.perConnection)))].sort();
    parts.push(
      "\nSyscalls per connection (strace -c, concurrency 1, runtime threads and memory management left out):\n",
    );
    parts.push(
      markdownTable(
        ["client", "total", ...names],
        syscalls.map((r) => [
          r.client,
          r.total.toFixed(1),
          ...names.map((n) => (r.perConnection[n] === undefined ? "-" : String(r.perConnection[n]))),
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
      "growth MB",
      "fds before",
      "fds after",
      "heap objects growth",
      "TFO in SYN",
    ],
    results.memory.map((r) => {
      const first = r.series[0]!;
      const last = r.series[r.series.length - 1]!;
      return [
        r.client,
        String(r.connections),
        mb(first.rssBytes),
        mb(last.rssBytes),
        (Math.abs(r.rssGrowthMB) < 0.05 ? 0 : r.rssGrowthMB).toFixed(1),
        String(first.fds),
        String(last.fds),
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
  return [
    `fastopen benchmarks (${results.mode}), ${m.date}, ${m.cpu} x ${m.cores}, Linux ${m.kernel}, Bun ` +
      `${m.bun}, load ${m.loadAtStart.toFixed(2)} at start`,
    `commit ${m.commit}${m.uncommitted.length > 0 ? ` with uncommitted changes to ${m.uncommitted.join(", ")}` : ""}`,
    "",
    "## 1. Time from the connect call to the first response byte (emulated link)",
    "",
    latencyTable(results),
    "## 2. Connections per second, loopback in a private namespace with TFO",
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
    "## Targets (reported, not asserted)",
    "",
    targetTable(results),
    "",
  ].join("\n");
}
