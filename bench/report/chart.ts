/**
 * The README's chart, drawn as plain SVG (no dependencies): time to first
 * byte in round trips per client and delay with the physical limit marked,
 * connections per second at both concurrencies, and RSS over the memory
 * run; the date and the machine in the footer.
 */
import type { BenchResults } from "./types.ts";

const WIDTH = 980;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const DELAY_COLORS = ["#9ecae1", "#4292c6", "#08519c"];
const CONC_COLORS = ["#a1d99b", "#238b45"];
const LINE_COLORS = ["#d94801", "#6a51a3"];

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function text(x: number, y: number, content: string, attrs = ""): string {
  const size = attrs.includes("font-size") ? "" : 'font-size="12" ';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${size}${attrs}>${esc(content)}</text>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string, title?: string): string {
  const tip = title === undefined ? "" : `<title>${esc(title)}</title>`;
  return (
    `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" ` +
    `height="${Math.max(0, h).toFixed(1)}" fill="${fill}">${tip}</rect>`
  );
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ""): string {
  return (
    `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" ` +
    `y2="${y2.toFixed(1)}" stroke="${stroke}" ${extra}/>`
  );
}

/** `+1.2` / `-0.3` / `0.0` (never `-0.0`). */
function signed(value: number): string {
  const text = value.toFixed(1);
  if (text === "0.0" || text === "-0.0") return "0.0";
  return value > 0 ? `+${text}` : text;
}

/** A round number near `max / 5` for axis ticks. */
function tickStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

/** Panel 1: median time to first byte in RTTs, one bar per delay, the limit as a black tick. */
function latencyPanel(results: BenchResults, top: number): { svg: string[]; height: number } {
  const rows = results.latency.rows;
  const clients = [...new Set(rows.map((r) => r.client))];
  const delays = [...new Set(rows.map((r) => r.delayMs))];
  const left = 230;
  const right = WIDTH - 30;
  const barH = 7;
  const groupH = delays.length * barH + 8;
  const maxRtts = Math.max(3.5, ...rows.map((r) => r.medianMs / r.rttMs)) * 1.05;
  const scale = (v: number): number => left + (v / maxRtts) * (right - left);
  const svg: string[] = [];
  svg.push(
    text(
      20,
      top + 16,
      "Time from the connect call to the first response byte, in round trips (median; black tick: physical limit)",
      'font-size="14" font-weight="bold"',
    ),
  );
  const chartTop = top + 30;
  const chartBottom = chartTop + clients.length * groupH;
  for (let v = 0; v <= maxRtts; v += 0.5) {
    const xx = scale(v);
    svg.push(line(xx, chartTop, xx, chartBottom, Number.isInteger(v) ? "#bbb" : "#eee"));
    if (Number.isInteger(v)) svg.push(text(xx - 4, chartBottom + 14, `${v}`, 'fill="#555"'));
  }
  svg.push(text(right - 30, chartBottom + 14, "RTTs", 'fill="#555"'));
  clients.forEach((client, ci) => {
    const gy = chartTop + ci * groupH + 4;
    svg.push(text(20, gy + (delays.length * barH) / 2 + 4, client));
    delays.forEach((delay, di) => {
      const row = rows.find((r) => r.client === client && r.delayMs === delay);
      if (row === undefined) return;
      const y = gy + di * barH;
      const value = row.medianMs / row.rttMs;
      svg.push(
        rect(
          left,
          y,
          scale(value) - left,
          barH - 1,
          DELAY_COLORS[di % DELAY_COLORS.length]!,
          `${client}, RTT ${row.rttMs} ms: median ${row.medianMs.toFixed(2)} ms = ` +
            `${value.toFixed(2)} RTT, p99 ${row.p99Ms.toFixed(2)} ms`,
        ),
      );
    });
    const limit = rows.find((r) => r.client === client);
    if (limit !== undefined) {
      const lx = scale(limit.limitMs / limit.rttMs);
      svg.push(line(lx, gy - 2, lx, gy + delays.length * barH + 1, "#000", 'stroke-width="2"'));
    }
  });
  const legendY = chartBottom + 28;
  delays.forEach((delay, di) => {
    const lx = left + di * 210;
    svg.push(rect(lx, legendY - 9, 12, 10, DELAY_COLORS[di % DELAY_COLORS.length]!));
    svg.push(text(lx + 16, legendY, `one-way ${delay} ms (RTT ${2 * delay} ms)`));
  });
  return { svg, height: legendY - top + 16 };
}

/** Panel 2: connections per second per client at each concurrency. */
function ratePanel(results: BenchResults, top: number, x0: number, width: number): { svg: string[]; height: number } {
  const rows = results.rate.rows;
  const clients = [...new Set(rows.map((r) => r.client))];
  const concs = [...new Set(rows.map((r) => r.conc))];
  const left = x0 + 130;
  const right = x0 + width - 20;
  const barH = 9;
  const groupH = concs.length * barH + 8;
  const max = Math.max(1, ...rows.map((r) => r.rate)) * 1.05;
  const step = tickStep(max);
  const scale = (v: number): number => left + (v / max) * (right - left);
  const svg: string[] = [
    text(x0 + 20, top + 16, "Connections/s, loopback (median of rounds)", 'font-size="14" font-weight="bold"'),
  ];
  const chartTop = top + 30;
  const chartBottom = chartTop + clients.length * groupH;
  for (let v = 0; v <= max; v += step) {
    svg.push(line(scale(v), chartTop, scale(v), chartBottom, "#ddd"));
    svg.push(text(scale(v) - 8, chartBottom + 14, v >= 1000 ? `${v / 1000}k` : `${v}`, 'fill="#555"'));
  }
  clients.forEach((client, ci) => {
    const gy = chartTop + ci * groupH + 4;
    svg.push(text(x0 + 20, gy + (concs.length * barH) / 2 + 4, client));
    concs.forEach((conc, k) => {
      const row = rows.find((r) => r.client === client && r.conc === conc);
      if (row === undefined) return;
      svg.push(
        rect(
          left,
          gy + k * barH,
          scale(row.rate) - left,
          barH - 1,
          CONC_COLORS[k % CONC_COLORS.length]!,
          `${client}, concurrency ${conc}: ${row.rate.toFixed(0)}/s (${row.vsBun.toFixed(2)}x ` +
            `Bun.connect, ${row.vsC.toFixed(2)}x C)`,
        ),
      );
    });
  });
  const legendY = chartBottom + 30;
  concs.forEach((conc, k) => {
    const lx = left + k * 120;
    svg.push(rect(lx, legendY - 9, 12, 10, CONC_COLORS[k % CONC_COLORS.length]!));
    svg.push(text(lx + 16, legendY, `concurrency ${conc}`));
  });
  return { svg, height: legendY - top + 16 };
}

/** Panel 3: RSS over the memory run, one line per client. */
function memoryPanel(results: BenchResults, top: number, x0: number, width: number, height: number): string[] {
  const left = x0 + 50;
  const right = x0 + width - 20;
  const chartTop = top + 30;
  const chartBottom = top + height - 56;
  const all = results.memory.flatMap((r) => r.series);
  const svg: string[] = [
    text(x0 + 20, top + 16, "RSS (MB) over connections (after a full GC)", 'font-size="14" font-weight="bold"'),
  ];
  if (all.length === 0) return svg;
  const maxConn = Math.max(...all.map((s) => s.connections));
  const mbs = all.map((s) => s.rssBytes / 1024 / 1024);
  const lo = Math.floor(Math.min(...mbs) / 10) * 10;
  const hi = Math.ceil((Math.max(...mbs) + 1) / 10) * 10;
  const sx = (c: number): number => left + (c / Math.max(1, maxConn)) * (right - left);
  const sy = (mb: number): number => chartBottom - ((mb - lo) / Math.max(1, hi - lo)) * (chartBottom - chartTop);
  for (let v = lo; v <= hi; v += tickStep(hi - lo)) {
    svg.push(line(left, sy(v), right, sy(v), "#eee"));
    svg.push(text(x0 + 18, sy(v) + 4, `${v}`, 'fill="#555"'));
  }
  const xStep = tickStep(maxConn);
  for (let c = 0; c <= maxConn; c += xStep)
    svg.push(text(sx(c) - 8, chartBottom + 14, c >= 1000 ? `${c / 1000}k` : `${c}`, 'fill="#555"'));
  svg.push(text(right - 70, chartBottom + 28, "connections", 'fill="#555"'));
  results.memory.forEach((row, i) => {
    const color = LINE_COLORS[i % LINE_COLORS.length]!;
    const points = row.series
      .map((s) => `${sx(s.connections).toFixed(1)},${sy(s.rssBytes / 1024 / 1024).toFixed(1)}`)
      .join(" ");
    svg.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
    svg.push(rect(left + i * 200, chartBottom + 40, 12, 3, color));
    svg.push(
      text(
        left + 16 + i * 200,
        chartBottom + 46,
        `${row.client} (${signed(row.rssGrowthMB)} MB, fds ${row.fdGrowth >= 0 ? "+" : ""}${row.fdGrowth})`,
      ),
    );
  });
  return svg;
}

/** The whole chart as an SVG document. */
export function renderChart(results: BenchResults): string {
  const parts: string[] = [];
  const latency = latencyPanel(results, 10);
  parts.push(...latency.svg);
  const secondTop = 10 + latency.height + 10;
  const half = WIDTH / 2;
  const rate = ratePanel(results, secondTop, 0, half);
  parts.push(...rate.svg);
  parts.push(...memoryPanel(results, secondTop, half, half, rate.height));
  const m = results.machine;
  const footerY = secondTop + rate.height + 20;
  const footer =
    `fastopen bench (${results.mode}) · ${m.date} · ${m.cpu} × ${m.cores} cores · Linux ` +
    `${m.kernel} · Bun ${m.bun} · load ${m.loadAtStart.toFixed(2)} at start · ` +
    `commit ${m.commit}${m.uncommitted.length > 0 ? "+" : ""}`;
  const setup =
    "64 B request, 64 B response, a new connection each; delay: TUN relay between two namespaces; " +
    "TLS 1.3 (Bun's default groups, or X25519 only); rate: native C server";
  parts.push(text(20, footerY, footer, 'fill="#555" font-size="11"'));
  parts.push(text(20, footerY + 15, setup, 'fill="#555" font-size="11"'));
  const height = footerY + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
