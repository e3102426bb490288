import { ConfigError } from "@jetflow/service-runtime";
import { isLoopbackHost, loadConfig } from "./config";

const TLS = { API_TLS_CERT: "/tls/tls.crt", API_TLS_KEY: "/tls/tls.key" };

describe("loadConfig: the HTTP port's TLS", () => {
  it("follows the gRPC port's TLS unless told otherwise", () => {
    expect(loadConfig({}).httpTls).toBe("auto");
    expect(loadConfig({ ...TLS, HTTP_TLS: "off" }).httpTls).toBe("off");
  });

  it("refuses plain HTTP beside a required TLS unless it is bound to loopback", () => {
    const env = { ...TLS, API_TLS: "required", HTTP_TLS: "off", GRPC_ADDR: "0.0.0.0:50051" };
    expect(() => loadConfig(env)).toThrow(
      new ConfigError([
        'HTTP_TLS=off serves plain HTTP on "0.0.0.0", refused with API_TLS=required: bind HTTP_HOST to a loopback address or drop HTTP_TLS',
      ]),
    );
    expect(loadConfig({ ...env, HTTP_HOST: "127.0.0.1" }).httpTls).toBe("off");
    expect(() => loadConfig({ ...TLS, HTTP_TLS: "on" })).toThrow(
      'HTTP_TLS must be one of auto, off, got "on"',
    );
  });

  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "localhost"].every(isLoopbackHost)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "example.com"].some(isLoopbackHost)).toBe(false);
  });
});

describe("loadConfig: tokens from a file and rate limits", () => {
  it("turns authentication on with API_TOKENS_FILE alone", () => {
    expect(loadConfig({ API_TOKENS_FILE: "/etc/jetflow/api-tokens/tokens.json" }).auth).toEqual({
      mode: "required",
      tokens: [],
      tokensFile: "/etc/jetflow/api-tokens/tokens.json",
      tokensReloadMs: 10_000,
      jwt: undefined,
    });
  });

  it("reads the rate limit", () => {
    expect(loadConfig({}).rateLimit.perSecond).toBe(0);
    expect(loadConfig({ API_RATE_LIMIT_PER_S: "20", API_RATE_LIMIT_BURST: "5" }).rateLimit).toEqual({
      perSecond: 20,
      burst: 5,
      maxCallers: 10_000,
    });
  });
});
