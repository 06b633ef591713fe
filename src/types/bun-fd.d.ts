/**
 * Bun 1.4.5 adopts an existing socket fd in `Bun.connect({ fd })` and
 * `Bun.listen({ fd })` (its `FdSocketOptions`), but its types only declare
 * the hostname and unix forms. These overloads declare the fd form.
 */
import "bun";

declare module "bun" {
  /** Adopts the connected (or connecting) socket `fd` into Bun's event loop. */
  function connect<Data = undefined>(options: FdSocketOptions<Data>): Promise<Socket<Data>>;
  /** Adopts the listening socket `fd` into Bun's event loop. */
  function listen<Data = undefined>(options: FdSocketOptions<Data>): TCPSocketListener<Data>;
}
