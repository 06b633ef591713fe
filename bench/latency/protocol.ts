/** What the latency client and server agree on, and the client's report. */

/** Request and response size (bytes). */
export const MESSAGE_BYTES = 64;

/** One client's samples at one delay. */
export interface ClientSamples {
  name: string;
  /** The round trips the physical limit allows: 1 TFO, 2 connect + write, 2 TLS 1.3 over TFO, 3 TLS 1.3. */
  limitRtts: number;
  /** The client whose median this one is compared with. */
  baseline: string;
  /** Milliseconds from the connect call to the first response byte. */
  samples: number[];
  /** Connections whose request rode in the SYN and was acknowledged (null: not a TFO client). */
  tfoProven: number | null;
}

/** The latency client's report for one delay. */
export interface LatencyReport {
  clients: ClientSamples[];
  /** Clients that could not run, with why (a missing module, ...). */
  skipped: Array<{ name: string; why: string }>;
}

/** The ports of the latency server. */
export interface ServerPorts {
  plain: number;
  tls: number;
  http: number;
}
