/**
 * Transport security of the API ports: plaintext, TLS with a server certificate, or mutual TLS
 * requiring client certificates signed by a configured CA, for the gRPC port (grpc-js's
 * file-watcher certificate provider) and the HTTP/JSON port (node:https). The files are re-read
 * every `reloadIntervalMs`, so a rotated certificate serves new connections without a restart;
 * open connections keep the one they began with.
 */
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { createServer as createHttpsServerOfNode } from "node:https";
import type { Server as HttpsServer } from "node:https";
import type { SecureContextOptions } from "node:tls";
import { ServerCredentials, experimental } from "@grpc/grpc-js";
import type { EnvReader, Logger } from "@jetflow/service-runtime";
import { ConfigError } from "@jetflow/service-runtime";

/** TLS settings of the API port. */
export interface ApiTlsConfig {
  /** API_TLS_CERT: PEM certificate chain of the server. */
  certFile: string;
  /** API_TLS_KEY: PEM private key of the server. */
  keyFile: string;
  /** API_TLS_CLIENT_CA: PEM CA bundle; when set, clients must present a certificate it signed. */
  clientCaFile?: string | undefined;
  /** API_TLS_RELOAD_MS: how often the files are re-read. Default 60000. */
  reloadIntervalMs: number;
}

/**
 * Reads API_TLS_*; undefined when no certificate is configured. API_TLS=required (the production
 * overlay) makes a missing certificate a configuration error.
 */
export function readApiTlsConfig(reader: EnvReader): ApiTlsConfig | undefined {
  const certFile = reader.optionalString("API_TLS_CERT");
  const keyFile = reader.optionalString("API_TLS_KEY");
  const clientCaFile = reader.optionalString("API_TLS_CLIENT_CA");
  const required = reader.oneOf("API_TLS", ["optional", "required"] as const, "optional");
  const reloadIntervalMs = reader.integer("API_TLS_RELOAD_MS", 60_000, 1000, 86_400_000);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    reader.problems.push("API_TLS_CERT and API_TLS_KEY must be set together");
  }
  if (clientCaFile !== undefined && certFile === undefined) {
    reader.problems.push("API_TLS_CLIENT_CA (mutual TLS) needs API_TLS_CERT and API_TLS_KEY");
  }
  if (required === "required" && certFile === undefined) {
    reader.problems.push("API_TLS=required needs API_TLS_CERT and API_TLS_KEY");
  }
  if (certFile === undefined || keyFile === undefined) return undefined;
  return { certFile, keyFile, clientCaFile, reloadIntervalMs };
}

function readPem(variable: string, file: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    problems.push(
      `${variable}: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
    return undefined;
  }
}

/**
 * Checks the files once, so that a wrong path or a key that does not match the certificate
 * stops the gateway at start with a clear message instead of failing every handshake later.
 * @throws ConfigError naming each bad file
 */
export function checkApiTlsFiles(tls: ApiTlsConfig): void {
  const problems: string[] = [];
  const cert = readPem("API_TLS_CERT", tls.certFile, problems);
  const key = readPem("API_TLS_KEY", tls.keyFile, problems);
  let x509: X509Certificate | undefined;
  if (cert) {
    try {
      x509 = new X509Certificate(cert);
    } catch {
      problems.push(`API_TLS_CERT: "${tls.certFile}" is not a PEM certificate`);
    }
  }
  if (key) {
    try {
      const privateKey = createPrivateKey(key);
      if (x509 && !x509.checkPrivateKey(privateKey)) {
        problems.push(`API_TLS_KEY: "${tls.keyFile}" does not match the certificate in "${tls.certFile}"`);
      }
    } catch {
      problems.push(`API_TLS_KEY: "${tls.keyFile}" is not a PEM private key`);
    }
  }
  if (tls.clientCaFile) {
    const ca = readPem("API_TLS_CLIENT_CA", tls.clientCaFile, problems);
    if (ca) {
      try {
        new X509Certificate(ca);
      } catch {
        problems.push(`API_TLS_CLIENT_CA: "${tls.clientCaFile}" is not a PEM certificate`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The credentials for the API port: insecure without `tls`. @throws ConfigError on bad files */
export function createApiCredentials(tls: ApiTlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  checkApiTlsFiles(tls);
  const identity = new experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs: tls.reloadIntervalMs,
  });
  const clientCa = tls.clientCaFile
    ? new experimental.FileWatcherCertificateProvider({
        caCertificateFile: tls.clientCaFile,
        refreshIntervalMs: tls.reloadIntervalMs,
      })
    : null;
  // grpc-js 1.14 declares this function's first two parameters as (ca, identity) but passes them
  // to a constructor taking (identity, ca): the identity provider goes first, as the code runs.
  // The TLS e2e test fails if an upgrade swaps them back.
  return experimental.createCertificateProviderServerCredentials(identity, clientCa, clientCa !== null);
}

/** The TLS options of node:https for `tls`: server certificate, and client CA for mutual TLS. */
export function readHttpsOptions(tls: ApiTlsConfig): SecureContextOptions {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.clientCaFile ? { ca: readFileSync(tls.clientCaFile) } : {}),
  };
}

/**
 * Creates the HTTPS server of the HTTP/JSON API with the same files as the gRPC port: server
 * certificate, and with API_TLS_CLIENT_CA a client certificate required of every connection.
 * @throws ConfigError on bad files
 */
export function createHttpsServer(tls: ApiTlsConfig, listener: RequestListener): HttpsServer {
  checkApiTlsFiles(tls);
  const mutual = tls.clientCaFile !== undefined;
  return createHttpsServerOfNode(
    { ...readHttpsOptions(tls), requestCert: mutual, rejectUnauthorized: mutual },
    listener,
  );
}

/**
 * Re-reads the certificate files every `tls.reloadIntervalMs` and gives changed ones to
 * `server` (new connections use them, open connections keep theirs). Files that do not make a
 * valid pair (a half-written replacement, a key of another certificate) are logged and the
 * previous certificate stays in use. Returns the function that stops watching.
 */
export function reloadHttpsCertificates(
  server: Pick<HttpsServer, "setSecureContext">,
  tls: ApiTlsConfig,
  log: Pick<Logger, "info" | "error">,
): () => void {
  const fingerprint = (): string => {
    const hash = createHash("sha256");
    for (const file of [tls.certFile, tls.keyFile, tls.clientCaFile]) {
      if (file !== undefined) hash.update(readFileSync(file)).update("\0");
    }
    return hash.digest("hex");
  };
  let current = "";
  try {
    current = fingerprint();
  } catch {
    // Checked at start already; the first successful read below sets it.
  }
  let failing = "";
  const check = (): void => {
    let next: string;
    try {
      next = fingerprint();
      if (next === current) return;
      checkApiTlsFiles(tls);
      server.setSecureContext(readHttpsOptions(tls));
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [String(err)];
      const text = problems.join("; ");
      // Once per distinct problem: a broken file is not logged every interval.
      if (text !== failing) log.error({ problems }, "https certificate not reloaded; the previous one stays");
      failing = text;
      return;
    }
    current = next;
    failing = "";
    log.info({ certFile: tls.certFile }, "https certificate reloaded");
  };
  const timer = setInterval(check, tls.reloadIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
