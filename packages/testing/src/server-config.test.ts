import { renderServerConfig } from "./server-config";

describe("renderServerConfig", () => {
  it("writes a loopback JetStream server with a random port and a ports file", () => {
    expect(
      renderServerConfig({ serverName: "n1", port: -1, portsFileDir: "/tmp/x", storeDir: "/tmp/x/store" }),
    ).toBe(
      [
        "# written by @jetflow/testing",
        'server_name: "n1"',
        'listen: "127.0.0.1:-1"',
        'http: "127.0.0.1:-1"',
        'ports_file_dir: "/tmp/x"',
        "jetstream {",
        '  store_dir: "/tmp/x/store"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("disables JetStream when there is no store", () => {
    const config = renderServerConfig({
      serverName: "n1",
      port: 4333,
      portsFileDir: "/d",
      storeDir: undefined,
    });
    expect(config).toContain('listen: "127.0.0.1:4333"\n');
    expect(config).toContain("jetstream: disabled\n");
    expect(config).not.toContain("store_dir");
  });

  it("puts a user config first so that listen and store settings override it", () => {
    const config = renderServerConfig({
      serverName: "n1",
      port: -1,
      portsFileDir: "/d",
      storeDir: "/d/store",
      base: 'listen: "0.0.0.0:4222"\nmax_payload: 2MB',
    });
    expect(config.startsWith('listen: "0.0.0.0:4222"\nmax_payload: 2MB\n')).toBe(true);
    expect(config.lastIndexOf("listen:")).toBe(config.indexOf('listen: "127.0.0.1:-1"'));
  });

  it("binds every listener to the given host", () => {
    const config = renderServerConfig({
      serverName: "c-n1",
      host: "10.213.0.11",
      port: 4222,
      portsFileDir: "/d",
      storeDir: "/d/store",
      cluster: { name: "c", port: 6222, routes: ["nats://10.213.0.10:6222"] },
    });
    expect(config).toContain('listen: "10.213.0.11:4222"\nhttp: "10.213.0.11:-1"\n');
    expect(config).toContain('  listen: "10.213.0.11:6222"\n');
    expect(config).not.toContain("127.0.0.1");
  });

  it("adds routes, logging and extra config last", () => {
    const config = renderServerConfig({
      serverName: "c-n0",
      port: 5000,
      portsFileDir: "/d",
      storeDir: "/d/store",
      cluster: { name: "c", port: 6000, routes: ["nats://127.0.0.1:6001", "nats://127.0.0.1:6002"] },
      debug: true,
      extraConfig: "authorization { token: s3cret }",
    });
    expect(config).toContain(
      [
        "cluster {",
        '  name: "c"',
        '  listen: "127.0.0.1:6000"',
        '  routes: ["nats://127.0.0.1:6001", "nats://127.0.0.1:6002"]',
        "}",
        "debug: true",
        "trace: true",
        "",
        "authorization { token: s3cret }",
        "",
      ].join("\n"),
    );
    expect(config.endsWith("authorization { token: s3cret }\n")).toBe(true);
  });
});
