import type { Socket } from "node:net";
import { createConnection } from "fastopen";
import { AbstractConnector, type RedisOptions } from "ioredis";

// ioredis' `Connector` option: new Redis({ host, port, Connector: FastOpenConnector }).
export class FastOpenConnector extends AbstractConnector {
  readonly #options: RedisOptions;

  constructor(options: unknown) {
    super((options as RedisOptions).disconnectTimeout ?? 2000);
    this.#options = options as RedisOptions;
  }

  override connect(): Promise<Socket> {
    this.connecting = true;
    const { host = "localhost", port = 6379 } = this.#options;
    this.stream = createConnection({ host, port }) as unknown as Socket;
    return Promise.resolve(this.stream);
  }
}
