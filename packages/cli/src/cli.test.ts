import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, JetflowError } from "@jetflow/client";
import type { ClientOptions, JetflowClient } from "@jetflow/client";
import { run } from "./cli";
import type { CliIo } from "./context";
import { ExitCode, exitCodeForStatus } from "./exit-codes";

const dir = mkdtempSync(join(tmpdir(), "jetflow-cli-"));
const good = join(dir, "hello.asl.json");
const bad = join(dir, "bad.yaml");
writeFileSync(good, JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }));
writeFileSync(bad, "StartAt: Missing\nStates:\n  P:\n    Type: Pass\n    Next: Nowhere\n");

function jetflow(...argv: string[]) {
  return jetflowWith({}, ...argv);
}

/** Runs the CLI with `env`; `client`, when given, answers its calls instead of a server. */
async function jetflowWith(
  options: { env?: Record<string, string>; client?: Partial<JetflowClient> },
  ...argv: string[]
) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
    env: options.env ?? {},
    readFile: (path) => readFile(path, "utf8"),
    connect: () => {
      if (options.client === undefined) throw new Error("these tests run without a server");
      return { close: () => undefined, ...options.client } as JetflowClient;
    },
    onInterrupt: () => () => undefined,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

describe("validate", () => {
  it("reports a valid definition and exits 0", async () => {
    const { code, stdout } = await jetflow("validate", good);
    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toBe(`✓ ${good}: valid (1 state, starts at P)\n`);
  });

  it("lists every problem with its line and exits 1", async () => {
    const { code, stdout } = await jetflow("validate", good, bad);
    expect(code).toBe(ExitCode.Failed);
    expect(stdout.split("\n").slice(1)).toEqual([
      `✗ ${bad}: 3 problems`,
      `  ${bad}:1:1 StartAt: "StartAt" must name a state in "States", and there is no "Missing"`,
      `  ${bad}:2:1 States: no state ends the state machine: give a state "End": true, or add a Succeed or Fail state`,
      `  ${bad}:5:5 States.P.Next: no state named "Nowhere"`,
      "",
    ]);
  });

  it("prints JSON for scripts", async () => {
    const { code, stdout } = await jetflow("--json", "validate", bad);
    expect(code).toBe(ExitCode.Failed);
    const report = JSON.parse(stdout) as {
      valid: boolean;
      files: Array<{ problems: Array<{ line: number }> }>;
    };
    expect(report.valid).toBe(false);
    expect(report.files[0]?.problems.map((p) => p.line)).toEqual([1, 2, 5]);
  });

  it("validates JSONata definitions: a valid one, and one with a malformed expression and a JSONPath field", async () => {
    const jsonata = join(dir, "jsonata.yaml");
    writeFileSync(
      jsonata,
      [
        "QueryLanguage: JSONata",
        "StartAt: P",
        "States:",
        "  P:",
        "    Type: Pass",
        "    Assign: { total: '{% $sum($states.input.items) %}' }",
        "    Output: '{% $states.input.( %}'",
        "    ResultPath: $.x",
        "    End: true",
      ].join("\n"),
    );
    const fine = join(dir, "jsonata-ok.json");
    writeFileSync(
      fine,
      JSON.stringify({
        QueryLanguage: "JSONata",
        StartAt: "P",
        States: { P: { Type: "Pass", Output: "{% $states.input.a %}", End: true } },
      }),
    );
    expect(await jetflow("validate", fine)).toMatchObject({ code: ExitCode.Ok });
    const { code, stdout } = await jetflow("validate", jsonata);
    expect(code).toBe(ExitCode.Failed);
    expect(stdout.split("\n")).toEqual([
      `✗ ${jsonata}: 2 problems`,
      `  ${jsonata}:7:5 States.P.Output: invalid JSONata expression: Expected ")" before end of expression at character 18`,
      `  ${jsonata}:8:5 States.P.ResultPath: "ResultPath" is a JSONPath field and cannot be used in a JSONata state; use "Output"`,
      "",
    ]);
  });

  it("exits 2 for a file that cannot be read", async () => {
    const { code, stderr } = await jetflow("validate", join(dir, "nope.json"));
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toBe(`error: cannot read "${join(dir, "nope.json")}": no such file\n`);
  });
});

describe("usage", () => {
  it("exits 2 for an unknown command or option, and 0 for --help", async () => {
    expect((await jetflow("frobnicate")).code).toBe(ExitCode.Usage);
    expect((await jetflow("list", "--status", "done")).stderr).toMatch(
      /option '--status <status>' argument 'done' is invalid\. expected one of running, succeeded/,
    );
    expect((await jetflow()).code).toBe(ExitCode.Usage);
    const help = await jetflow("watch", "--help");
    expect(help.code).toBe(ExitCode.Ok);
    expect(help.stdout).toContain("Usage: jetflow watch [options] <execution-id>");
  });

  it("checks --input before calling the server", async () => {
    const { code, stderr } = await jetflow("start", "hello", "--input", "{nope");
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toBe(
      'error: --input is not valid JSON at line 1, column 2: expected a property name in double quotes, found "n"\n',
    );
  });

  it("refuses an execution id that cannot be one on one line, exit 2, before calling the server", async () => {
    for (const command of ["describe", "history", "watch", "stop"]) {
      const { code, stdout, stderr } = await jetflow(command, "not an id");
      expect({ command, code, stdout, stderr }).toEqual({
        command,
        code: ExitCode.Usage,
        stdout: "",
        stderr: 'error: "not an id" is not an execution id: ids are 1 to 128 letters, digits, "-" and "_"\n',
      });
    }
  });

  it("names the command as the user runs it ($JETFLOW_COMMAND) in hints and help", async () => {
    const env = { JETFLOW_COMMAND: "./scripts/jetflow" };
    const startExecution = () =>
      Promise.resolve({ executionId: "e-1", startTime: new Date(), created: true });
    const started = await jetflowWith({ env, client: { startExecution } }, "start", "hello");
    expect(started).toEqual({
      code: ExitCode.Ok,
      stdout: "✓ started hello execution e-1\n  follow it: ./scripts/jetflow watch e-1\n",
      stderr: "",
    });
    const plain = await jetflowWith({ client: { startExecution } }, "start", "hello");
    expect(plain.stdout).toContain("  follow it: jetflow watch e-1\n");
    const help = await jetflowWith({ env }, "watch", "--help");
    expect(help.stdout).toContain("Usage: ./scripts/jetflow watch [options] <execution-id>");
  });

  it("refuses --name with several files", async () => {
    const { code, stderr } = await jetflow("register", "--name", "x", good, bad);
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toBe(
      "error: --name works with one file only; without it each file registers under its own name\n",
    );
  });

  it("registers nothing when a definition has problems", async () => {
    const { code, stdout, stderr } = await jetflow("register", good, bad);
    expect(code).toBe(ExitCode.Failed);
    expect(stdout).toContain(`✗ ${bad}: 3 problems`);
    expect(stderr).toBe("error: nothing registered: 1 definition has problems\n");
  });
});

it("maps gRPC status codes to exit codes", () => {
  expect(exitCodeForStatus(14)).toBe(ExitCode.Unavailable);
  expect(exitCodeForStatus(4)).toBe(ExitCode.Unavailable);
  expect(exitCodeForStatus(5)).toBe(ExitCode.NotFound);
  expect(exitCodeForStatus(3)).toBe(ExitCode.Rejected);
  expect(exitCodeForStatus(6)).toBe(ExitCode.Rejected);
  expect(exitCodeForStatus(9)).toBe(ExitCode.Rejected);
  expect(exitCodeForStatus(13)).toBe(ExitCode.ServerError);
});

describe("credentials", () => {
  /** Runs `describe x` against a client that refuses it, recording what the CLI connected with. */
  async function describeWith(env: Record<string, string>, ...flags: string[]) {
    let stderr = "";
    let options: ClientOptions | undefined;
    const io: CliIo = {
      stdout: { write: () => undefined },
      stderr: { write: (text) => void (stderr += text) },
      env,
      readFile: (path) => readFile(path, "utf8"),
      connect: (given) => {
        options = given;
        return {
          close: () => undefined,
          describeExecution: () =>
            Promise.reject(new JetflowError(Code.UNAUTHENTICATED, "missing or invalid credentials")),
        } as unknown as JetflowClient;
      },
      onInterrupt: () => () => undefined,
    };
    const code = await run([...flags, "describe", "x"], io);
    return { code, stderr, options };
  }
  const pem = join(dir, "ca.pem");
  writeFileSync(pem, "-----BEGIN CERTIFICATE-----\n");

  it("sends --token, else JETFLOW_TOKEN, and never the process's own", async () => {
    expect((await describeWith({ JETFLOW_TOKEN: "from-env" }, "--token", "flag")).options?.token).toBe(
      "flag",
    );
    expect((await describeWith({ JETFLOW_TOKEN: "from-env" })).options?.token).toBe("from-env");
    expect((await describeWith({})).options?.token).toBe("");
  });

  it("reads the TLS files of --ca, --cert and --key, or of JETFLOW_CA", async () => {
    const text = "-----BEGIN CERTIFICATE-----\n";
    expect((await describeWith({}, "--ca", pem, "--cert", pem, "--key", pem)).options?.tls).toEqual({
      ca: text,
      cert: text,
      key: text,
    });
    expect((await describeWith({ JETFLOW_CA: pem })).options?.tls).toEqual({ ca: text });
    expect((await describeWith({}, "--tls")).options?.tls).toBe(true);
    expect((await describeWith({})).options?.tls).toBeUndefined();
  });

  it("refuses --cert without --key, and unreadable files, as usage errors", async () => {
    const alone = await describeWith({}, "--cert", pem);
    expect(alone.code).toBe(ExitCode.Usage);
    expect(alone.stderr).toContain("--cert and --key (JETFLOW_CERT, JETFLOW_KEY) go together");
    const missing = await describeWith({}, "--ca", join(dir, "nope.pem"));
    expect(missing.code).toBe(ExitCode.Usage);
    expect(missing.stderr).toContain(`cannot read --ca file "${join(dir, "nope.pem")}": ENOENT`);
  });

  it("says how to give a token when the API wants one", async () => {
    const { code, stderr } = await describeWith({});
    expect(code).toBe(ExitCode.Rejected);
    expect(stderr).toContain("missing or invalid credentials");
    expect(stderr).toContain("the API needs a token: --token or JETFLOW_TOKEN give it");
  });
});
