import { type FastOpenConnectorOptions, fastOpenConnector } from "fastopen";
import { Agent } from "undici/index.js";

// The npm package (Bun's built-in `undici` is a stub without Agent): request(url, { dispatcher }).
export function fastOpenDispatcher(options: FastOpenConnectorOptions = {}): Agent {
  return new Agent({ connect: fastOpenConnector(options) });
}
