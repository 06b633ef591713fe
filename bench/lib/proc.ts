/**
 * Line-by-line reading of a child's stdout, and the JSON-line protocol the
 * benchmark programs speak (one JSON object per line).
 */

/** Reads lines from a byte stream, one at a time, with a timeout. */
export class LineReader {
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }> };
  private readonly decoder = new TextDecoder();
  private buffered = "";
  private ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The next line (without "\n"); null at end of stream; throws after `timeoutMs`. */
  async next(timeoutMs: number): Promise<string | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const newline = this.buffered.indexOf("\n");
      if (newline >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        return line;
      }
      if (this.ended) {
        const rest = this.buffered;
        this.buffered = "";
        return rest === "" ? null : rest;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), left);
      });
      const chunk = await Promise.race([this.reader.read(), timeout]);
      clearTimeout(timer);
      if (chunk === "timeout") throw new Error(`no line within ${timeoutMs} ms`);
      if (chunk.done || chunk.value === undefined) this.ended = true;
      else this.buffered += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The next line that parses as a JSON object (other lines are echoed to stderr). */
  async json<T>(timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = await this.next(Math.max(1, deadline - performance.now()));
      if (line === null) throw new Error("child ended before sending its JSON report");
      if (line.startsWith("{")) return JSON.parse(line) as T;
      if (line.trim() !== "") process.stderr.write(`  | ${line}\n`);
    }
  }
}

/** Reads stdin line by line, calling `handle` for each (awaited in turn); resolves at end of input. */
export async function eachStdinLine(handle: (line: string) => Promise<void> | void): Promise<void> {
  const lines = new LineReader(Bun.stdin.stream());
  for (;;) {
    const line = await lines.next(24 * 3600 * 1000);
    if (line === null) return;
    if (line.trim() !== "") await handle(line);
  }
}

/** Prints one JSON object as a line on stdout. */
export function reply(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
