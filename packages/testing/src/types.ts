/**
 * A nats-server process started by `startNatsServer()` or as a node of `startNatsCluster()`. It listens on
 * 127.0.0.1 only and keeps its config, log and JetStream store in its own temp dir.
 */
export interface NatsServer {
  /** The `server_name`, as in `streamInfo().cluster.leader`. */
  readonly name: string;
  /** The client URL, `nats://127.0.0.1:<port>`; unchanged by `restart()`. */
  readonly url: string;
  /** The client port, picked by the server on first start and reused on every restart. */
  readonly port: number;
  /** The HTTP monitoring URL (`/healthz`, `/jsz`, `/connz`); a new port after each restart. */
  readonly monitorUrl: string;
  /** The JetStream `store_dir` (the server keeps its data under `<storeDir>/jetstream`). */
  readonly storeDir: string;
  /** The config file the server was started with. */
  readonly configFile: string;
  /** The file that receives the server's stdout and stderr, appended to across restarts. */
  readonly logFile: string;
  /** The process id while running, `undefined` once stopped or killed. */
  readonly pid: number | undefined;
  /** Whether the process is running. */
  readonly running: boolean;
  /**
   * Stops the server with SIGTERM and waits for it to exit, sending SIGKILL if it is still running after
   * the stop bound (default 10_000 ms). Does nothing if it is not running.
   */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
  /**
   * Starts the server again (stopping it first if running) on the same port with the same store, so
   * JetStream data survives, and waits until it is ready. Existing connections reconnect on their own, but
   * nats.js drops what they send until then: wait for their `reconnect` status, or connect anew.
   *
   * @throws {NatsServerStartError} if it exits early or is not ready within the start bound
   */
  restart(): Promise<void>;
  /** Stops the server and removes its temp dir. Safe to call twice. */
  dispose(): Promise<void>;
}

/** A JetStream cluster of nats-server processes on loopback, started by `startNatsCluster()`. */
export interface NatsCluster {
  /** The cluster name, as in `streamInfo().cluster.name`. */
  readonly name: string;
  /** The nodes, in start order; node `i` is named `<name>-n<i>`. */
  readonly servers: readonly NatsServer[];
  /** The client URL of every node, for `connectTo(cluster.urls)`. */
  readonly urls: readonly string[];
  /** Stops node `i` with SIGTERM (see `NatsServer.stop`). */
  stopNode(index: number): Promise<void>;
  /** Kills node `i` with SIGKILL, as a crash would. */
  killNode(index: number): Promise<void>;
  /**
   * Starts node `i` again with its ports and store and waits until it has rejoined: it answers
   * JetStream requests and its `/healthz` reports its streams and consumers current.
   */
  restartNode(index: number): Promise<void>;
  /** Stops every node and removes the cluster's temp dir. Safe to call twice. */
  dispose(): Promise<void>;
}
