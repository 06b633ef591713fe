/**
 * The `describe` of a test file whose suites run in private network
 * namespaces: skipped, with the reason logged once, where they cannot run.
 * (Test files only: it imports bun:test, which scenario scripts must not.)
 */
import { describe } from "bun:test";
import { netnsUnavailable } from "./netns.ts";

/** `describe`, or `describe.skip` (logging `label: skipped: reason`) when namespaces are unavailable here. */
export function namespaceSuite(label: string): typeof describe {
  const unavailable = netnsUnavailable();
  if (unavailable !== null) console.log(`${label}: skipped: ${unavailable}`);
  return describe.skipIf(unavailable !== null) as typeof describe;
}
