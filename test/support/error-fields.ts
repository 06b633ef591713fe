/**
 * The fields of a connect error that the scenarios report and the tests
 * check: a SystemError's `code`, `errno`, `syscall`, `address` and `port`.
 */

/** An error as a scenario reports it (null where the error lacks the field). */
export interface ErrorFields {
  name: string;
  code: string | null;
  errno: number | null;
  syscall: string | null;
  address: string | null;
  port: number | null;
  /** The value thrown was an `Error`. */
  isError: boolean;
}

/** The reportable fields of `error`. */
export function errorFields(error: unknown): ErrorFields {
  const e = error as Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number };
  return {
    name: e.name,
    code: e.code ?? null,
    errno: e.errno ?? null,
    syscall: e.syscall ?? null,
    address: e.address ?? null,
    port: e.port ?? null,
    isError: e instanceof Error,
  };
}
