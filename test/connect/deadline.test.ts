/**
 * The end of a connect (`src/connect/deadline.ts`): one watcher for the
 * deadline and the abort signal, stopping once with the first of them, and
 * `bounded`, which settles a promise with it. No timing thresholds: the
 * deadlines are already past, so only the order of events matters.
 */
import { describe, expect, test } from "bun:test";
import { bounded, limited, limitOf, type StopError, watch } from "../../src/connect/deadline.ts";

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe("watch", () => {
  test("no signal and no deadline: nothing is watched", () => {
    const limit = limitOf(undefined, 0);
    expect(limited(limit)).toBe(false);
    expect(limit.deadline).toBeNull();
  });

  test("stops once with ETIMEDOUT at a past deadline, never synchronously", async () => {
    const stops: StopError[] = [];
    watch({ signal: undefined, deadline: performance.now() - 1 }, (error) => stops.push(error));
    expect(stops).toHaveLength(0);
    await tick();
    expect(stops).toHaveLength(1);
    expect(stops[0]!("192.0.2.1", 80)).toMatchObject({ code: "ETIMEDOUT", syscall: "connect", port: 80 });
  });

  test("an abort stops it with ABORT_ERR and the reason; the later deadline no longer fires", async () => {
    const controller = new AbortController();
    const stops: StopError[] = [];
    watch({ signal: controller.signal, deadline: performance.now() + 1 }, (error) => stops.push(error));
    controller.abort("bye");
    await tick();
    expect(stops).toHaveLength(1);
    const error = stops[0]!("192.0.2.1", 80);
    expect(error).toMatchObject({ name: "AbortError", code: "ABORT_ERR", address: "192.0.2.1", cause: "bye" });
  });

  test("unwatching before either happens: stop is never called", async () => {
    const controller = new AbortController();
    let stops = 0;
    const unwatch = watch({ signal: controller.signal, deadline: performance.now() - 1 }, () => stops++);
    unwatch();
    controller.abort();
    await tick();
    expect(stops).toBe(0);
  });
});

describe("bounded", () => {
  test("without a limit it is the promise itself", () => {
    const promise = Promise.resolve(1);
    expect(bounded(promise, limitOf(undefined, 0), "h", 1)).toBe(promise);
  });

  test("settles with the promise when it comes first", async () => {
    const controller = new AbortController();
    expect(await bounded(Promise.resolve(7), limitOf(controller.signal, 0), "h", 1)).toBe(7);
    controller.abort();
    await expect(bounded(Promise.reject(new Error("own")), limitOf(controller.signal, 0), "h", 1)).rejects.toThrow(
      "own",
    );
  });

  test("rejects at the deadline as an attempt to the given address", async () => {
    const never = new Promise<number>(() => {});
    const limit = { signal: undefined, deadline: performance.now() - 1 };
    await expect(bounded(never, limit, "example.test", 443)).rejects.toMatchObject({
      code: "ETIMEDOUT",
      address: "example.test",
      port: 443,
    });
  });
});
