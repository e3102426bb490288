/**
 * Test fixtures for jetflow: a real nats-server (or a three-node JetStream cluster) per test file, and
 * small helpers for waiting on conditions and isolating tests that share a server.
 *
 * @example
 * ```ts
 * import { jetstream, jetstreamManager } from "@nats-io/jetstream";
 * import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
 * import type { NatsServer } from "@jetflow/testing";
 *
 * let server: NatsServer | undefined;
 * beforeAll(async () => {
 *   server = await startNatsServer();
 * });
 * afterAll(() => server?.dispose());
 *
 * it("stores a run event", async () => {
 *   const nc = await connectTo(server!.url);
 *   try {
 *     const stream = uniqueName("runs");
 *     const jsm = await jetstreamManager(nc);
 *     await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
 *     await jetstream(nc).publish(`${stream}.started`, "{}");
 *     await waitFor(async () => (await jsm.streams.info(stream)).state.messages === 1);
 *   } finally {
 *     await nc.close();
 *   }
 * });
 * ```
 *
 * @packageDocumentation
 */
export { connectTo } from "./connect-to";
export { NatsServerNotFoundError, NatsServerStartError, WaitForTimeoutError } from "./errors";
export { debianNatsServerPath, findNatsServer } from "./find-nats-server";
export { freePort, freePorts } from "./free-port";
export { startNatsCluster } from "./nats-cluster";
export type { StartNatsClusterOptions } from "./nats-cluster";
export { startNatsServer } from "./nats-server";
export { startNetnsCluster } from "./netns-cluster";
export type { NetnsCluster, StartNetnsClusterOptions } from "./netns-cluster";
export { NetnsUnavailableError, createNetnsNetwork, removeLeftoverNetworks } from "./netns";
export type { CreateNetnsNetworkOptions, NetnsNetwork } from "./netns";
export type { StartNatsServerOptions } from "./nats-server";
export type { NatsCluster, NatsServer } from "./types";
export { uniqueName } from "./unique-name";
export { useNats } from "./use-nats";
export type { UseNatsOptions, UsedNats } from "./use-nats";
export { waitFor } from "./wait-for";
export type { WaitForOptions } from "./wait-for";
