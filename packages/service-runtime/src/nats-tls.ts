import { access, constants } from "node:fs/promises";
import type { TlsOptions } from "@nats-io/transport-node";
import type { NatsTlsFiles } from "./config";

/**
 * The nats.js `tls` option for `files`, after checking that each file can be read, so that a
 * wrong path stops the service at start with its variable's name instead of failing every
 * reconnect. The paths (not the contents) go to nats.js, which re-reads them on each reconnect:
 * a rotated certificate is used from the next connection on. A `tls` option also makes nats.js
 * refuse a server that offers no TLS.
 * @throws Error naming the variable whose file cannot be read
 */
export async function natsTlsOptions(files: NatsTlsFiles | undefined): Promise<TlsOptions | undefined> {
  if (!files) return undefined;
  const named: [string, string | undefined][] = [
    ["NATS_TLS_CA", files.caFile],
    ["NATS_TLS_CERT", files.certFile],
    ["NATS_TLS_KEY", files.keyFile],
  ];
  for (const [variable, file] of named) {
    if (file === undefined) continue;
    try {
      await access(file, constants.R_OK);
    } catch (err) {
      throw new Error(
        `${variable}: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  const tls: TlsOptions = {};
  if (files.caFile) tls.caFile = files.caFile;
  if (files.certFile) tls.certFile = files.certFile;
  if (files.keyFile) tls.keyFile = files.keyFile;
  return tls;
}
