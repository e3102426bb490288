/**
 * Test certificates made with the openssl command (Debian's `openssl` package; scripts/bootstrap.sh
 * installs it): a CA per call to `createTestCa`, and leaf certificates for 127.0.0.1/localhost
 * that serve as server and client certificates alike. P-256 keys: quick to generate.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths of a PEM certificate and its key. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** A throw-away certificate authority in a temp dir. */
export interface TestCa {
  /** Path of the CA certificate (PEM), to trust. */
  readonly ca: string;
  /** Issues a certificate for 127.0.0.1 and localhost, usable by servers and clients. */
  issue(name: string): CertFiles;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(process.env.OPENSSL_BIN ?? "openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** Creates a CA named `name` (its files live in a fresh temp dir). */
export function createTestCa(name: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `jetflow-ca-${name}-`));
  openssl(
    ["req", "-x509", ...EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", `/CN=${name}`],
    dir,
  );
  writeFileSync(
    join(dir, "leaf.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n",
  );
  return {
    ca: join(dir, "ca.pem"),
    issue(leaf) {
      openssl(["req", ...EC, "-keyout", `${leaf}.key`, "-out", `${leaf}.csr`, "-subj", `/CN=${leaf}`], dir);
      openssl(
        // -set_serial: every leaf distinct without a serial file shared between calls.
        ["x509", "-req", "-in", `${leaf}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "2"]
          .concat(["-set_serial", String(Date.now() * 1000 + Math.floor(Math.random() * 1000))])
          .concat(["-extfile", "leaf.ext", "-out", `${leaf}.pem`]),
        dir,
      );
      return { cert: join(dir, `${leaf}.pem`), key: join(dir, `${leaf}.key`) };
    },
  };
}
