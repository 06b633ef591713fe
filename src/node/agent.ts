/**
 * `FastOpenAgent`: an `http.Agent` whose connections are made by
 * `createConnection`, so that each new connection's first request rides in
 * the SYN once the server's cookie is known.
 */
import http from "node:http";
import { checkSocketOptions } from "../connect/options.ts";
import { createConnection } from "./create-connection.ts";
import type { CreateConnectionOptions, FastOpenSocket } from "./socket.ts";

/** Options of `FastOpenAgent`: those of `http.Agent` plus `fastOpen`, merged into every `createConnection`. */
export interface FastOpenAgentOptions extends http.AgentOptions {
  /** TFO options for every connection (`fastOpen`, `optimistic`, `connectTimeout`, `family`). */
  fastOpen?: Pick<CreateConnectionOptions, "fastOpen" | "optimistic" | "connectTimeout" | "family">;
}

/**
 * An `http.Agent` whose connections use TFO (`createConnection`): with a
 * known cookie, each new connection's request rides in the SYN. With
 * `keepAlive`, only a connection's first request can (later ones reuse it).
 */
export class FastOpenAgent extends http.Agent {
  /** The TFO options merged into every connection. */
  readonly fastOpenOptions: Readonly<NonNullable<FastOpenAgentOptions["fastOpen"]>>;

  /**
   * As `new http.Agent(options)`, plus `fastOpen` (options for every connection), checked here: a TypeError or
   * RangeError names a bad one (`optimistic: "no"`, `connectTimeout: -1`, ...).
   */
  constructor(options: FastOpenAgentOptions = {}) {
    const { fastOpen = {}, ...agentOptions } = options;
    checkSocketOptions(fastOpen, "FastOpenAgent's fastOpen");
    super(agentOptions);
    this.fastOpenOptions = { ...fastOpen };
  }

  /** Opens a connection with `createConnection` (TFO); returns it at once. */
  override createConnection(options: http.ClientRequestArgs): FastOpenSocket {
    return createConnection({ ...(options as CreateConnectionOptions), ...this.fastOpenOptions });
  }
}
