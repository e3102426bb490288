/**
 * jetflow patches @nats-io/nats-core 3.4.0 (patches/, pnpm's patchedDependencies): its RequestOne
 * built a RequestError, stack trace and all, to reject an already settled promise at the end of
 * every successful request, 4 to 12% of a service's CPU on the hot path (docs/performance.md).
 * This checks that the copy the services load is the patched one (every integration test makes
 * requests through it).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The nats-core that @nats-io/transport-node (what the services connect with) resolves. */
function loadedNatsCoreDir(): string {
  const transport = require.resolve("@nats-io/transport-node");
  return dirname(require.resolve("@nats-io/nats-core", { paths: [dirname(transport)] }));
}

describe("the patched @nats-io/nats-core", () => {
  it("unregisters a settled request without building an error", () => {
    const source = readFileSync(join(loadedNatsCoreDir(), "request.js"), "utf8");
    const requestOne = source.slice(source.indexOf("class RequestOne"));
    const resolver = requestOne.slice(
      requestOne.indexOf("resolver(err, msg)"),
      requestOne.indexOf("cancel(err)"),
    );
    expect(resolver).toContain("this.deferred.resolve(msg);");
    expect(resolver).toContain("this.mux.cancel(this);");
    expect(resolver).not.toContain("this.cancel();");
  });
});
