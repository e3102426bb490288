/**
 * @jetflow/cli: the `jetflow` command. Its binary is `dist/main.js`; `run` runs it in-process.
 *
 * ```ts
 * import { run } from "@jetflow/cli";
 * const code = await run(["validate", "order.asl.yaml"], io);
 * ```
 */
export { run, DEFAULT_ADDRESS } from "./cli";
export type { CliIo, OutputStream } from "./context";
export { ExitCode, exitCodeForStatus } from "./exit-codes";
