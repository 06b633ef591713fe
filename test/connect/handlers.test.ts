/**
 * Issue 11.2: an exception thrown in a user handler (`open`, `data`, `end`,
 * `close`) must not vanish. With no `error` handler, Bun.connect prints it
 * and the process exits 1 (it goes on running until then); with one, the
 * handler gets it. fastopen's connect must do the same, plain and lazy
 * (where `open` runs before the handshake). Child processes in a private
 * network namespace.
 */
import { beforeAll, expect, test } from "bun:test";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { ThrowRun } from "./handlers.scenario.ts";

const suite = namespaceSuite("connect.handlers");

suite("exceptions thrown in user handlers", () => {
  let runs: Record<string, ThrowRun>;
  beforeAll(() => {
    runs = runScenarioCase<{ runs: Record<string, ThrowRun> }>(`${import.meta.dir}/handlers.scenario.ts`, [
      "throws",
    ]).runs;
  }, 60_000);

  test("a throw in connectError is reported (printed, exit 1); connect() still rejects with the connect error", () => {
    expect(runs.connectError).toEqual({
      exitCode: 1,
      printed: true,
      report: { saw: ["ECONNREFUSED"], survived: true },
    });
  });

  for (const which of ["open", "data", "end", "close"]) {
    test(`a throw in ${which} without an error handler is printed and the exit code is 1, as with Bun.connect`, () => {
      const reference = runs[`${which}/bun/plain/no`]!;
      expect(reference).toMatchObject({ exitCode: 1, printed: true });
      for (const mode of ["plain", "lazy"]) {
        expect({ mode, ...runs[`${which}/fastopen/${mode}/no`]! }).toEqual({ mode, ...reference });
      }
    });

    test(`a throw in ${which} with an error handler reaches it, as with Bun.connect`, () => {
      const reference = runs[`${which}/bun/plain/yes`]!;
      expect(reference.report?.saw).toEqual([`boom in ${which}`]);
      for (const mode of ["plain", "lazy"]) {
        expect({ mode, ...runs[`${which}/fastopen/${mode}/yes`]! }).toEqual({ mode, ...reference });
      }
    });
  }
});
