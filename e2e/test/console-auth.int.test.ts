// The web console against a locked API (API_AUTH=required): it asks for a token, keeps it in the
// tab's sessionStorage and sends it as `Authorization: Bearer …` on every call, the live stream
// included (fetch-based SSE, so the token is in no URL); a wrong token brings the sign-in back
// with the reason, and a reader is told which role a refused action needs. Also: a Map's inner
// states coloured by the statuses of its iterations. Screenshots go to e2e/artifacts/console/.
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page, Request } from "playwright-core";
import { useEngine } from "./fixture";

const TOKENS = {
  reader: "reader-console-secret",
  operator: "operator-console-secret",
  admin: "admin-console-secret",
};
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const ISSUER = "https://idp.example.test";
const AUDIENCE = "jetflow-console";
const jwtKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });

/** An ES256 JWT signed with node:crypto, valid for five minutes. */
function signJwt(claims: Record<string, unknown>): string {
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64url({ alg: "ES256", typ: "JWT" })}.${b64url({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims })}`;
  const signature = sign("sha256", Buffer.from(body), { key: jwtKeys.privateKey, dsaEncoding: "ieee-p1363" });
  return `${body}.${signature.toString("base64url")}`;
}

const fixture = useEngine({
  serviceEnv: {
    "api-gateway": {
      API_AUTH: "required",
      API_JWT_PUBLIC_KEY: jwtKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
      API_JWT_ISSUER: ISSUER,
      API_JWT_AUDIENCE: AUDIENCE,
      // The Step Functions endpoint beside a locked API must have keys of its own.
      SFN_ACCESS_KEYS: "sfn-console-key:sfn-console-secret",
      API_TOKENS: JSON.stringify(
        (["reader", "operator", "admin"] as const).map((role) => ({
          name: `${role}-person`,
          role,
          sha256: sha256(TOKENS[role]),
        })),
      ),
    },
  },
});
const ARTIFACTS = resolve(__dirname, "../artifacts/console");
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const STEP_TIMEOUT_MS = 30_000;

let browser: Browser;
let page: Page;
const requests: Request[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on("request", (request) => requests.push(request));
});

afterAll(async () => {
  await browser?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function post(path: string, body: unknown, token = TOKENS.admin): Promise<Record<string, unknown>> {
  const res = await fetch(`${fixture.engine.httpUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The selector of the graph's box for `state` in `status`. */
const stateBox = (state: string, status: string) =>
  `[data-testid="state"][data-state="${state}"][data-status="${status}"]`;

async function stateHasStatus(state: string, status: string): Promise<void> {
  try {
    await page.locator(stateBox(state, status)).waitFor();
  } catch (err) {
    await shot(`auth-failed-${state.replaceAll("/", "_").replaceAll("*", "all")}-${status}`);
    throw err;
  }
}

/** Completes the open task of `state` in the execution, found in its history. */
async function completeTask(executionId: string, state: string): Promise<void> {
  const res = await fetch(`${fixture.engine.httpUrl}/v1/executions/${executionId}/history`, {
    headers: { authorization: `Bearer ${TOKENS.admin}` },
  });
  const { events } = (await res.json()) as {
    events: { stateName?: string; taskScheduled?: { taskToken: string } }[];
  };
  const scheduled = events.filter((e) => e.stateName === state && e.taskScheduled).pop();
  if (!scheduled?.taskScheduled) throw new Error(`no task scheduled at "${state}"`);
  await post("/v1/tasks:sendSuccess", { taskToken: scheduled.taskScheduled.taskToken, outputJson: "{}" });
}

async function signInWith(token: string): Promise<void> {
  await page.getByTestId("token-input").fill(token);
  await page.getByTestId("sign-in-button").click();
}

// No worker serves "by-hand": the test completes each task, so the page sees every step live.
const byHand = JSON.stringify({
  StartAt: "First",
  States: {
    First: { Type: "Task", Resource: "by-hand", Next: "Second" },
    Second: { Type: "Task", Resource: "by-hand", End: true },
  },
});
// No worker serves "external": the execution waits until stopped.
const waiting = JSON.stringify({
  StartAt: "Approve",
  States: { Approve: { Type: "Task", Resource: "external", End: true } },
});
// Each item goes through Echo and Route, then waits at Hold, fails at Explode, or ends at Finish.
const fanOut = `
StartAt: Each
States:
  Each:
    Type: Map
    ItemsPath: $.items
    End: true
    ItemProcessor:
      StartAt: Echo
      States:
        Echo: { Type: Task, Resource: echo, Next: Route }
        Route:
          Type: Choice
          Choices:
            - { Variable: $.hold, IsPresent: true, Next: Hold }
            - { Variable: $.boom, IsPresent: true, Next: Explode }
          Default: Finish
        Hold: { Type: Task, Resource: external, End: true }
        Explode: { Type: Task, Resource: fail, Parameters: { error: Boom, cause: on purpose }, End: true }
        Finish: { Type: Pass, End: true }
`;

beforeAll(async () => {
  await post("/v1/workflows", { name: "auth-by-hand", definition: byHand });
  await post("/v1/workflows", { name: "auth-waiting", definition: waiting });
  await post("/v1/workflows", { name: "auth-fan-out", definition: fanOut });
});

describe("the web console with API_AUTH=required", () => {
  it("asks for a token, says when one is refused, and shows the executions once signed in", async () => {
    await post("/v1/executions", { workflowName: "auth-waiting", executionName: "auth-listed" });
    await page.goto(fixture.engine.httpUrl);
    await page.getByTestId("sign-in").waitFor();
    expect(await page.getByTestId("sign-in-reason").textContent()).toContain("This API needs a token");

    await signInWith("not-a-real-token");
    await page.getByTestId("sign-in-reason").getByText("The token was refused").waitFor();
    expect(await page.getByTestId("sign-in-reason").textContent()).toContain(
      "missing or invalid credentials",
    );
    await shot("auth-refused");

    await signInWith(TOKENS.operator);
    await page.getByRole("link", { name: "auth-waiting" }).waitFor();
    await page.getByTestId("signed-in").waitFor();
    await page.getByRole("link", { name: "Executions", exact: true }).click();
    await page.getByRole("link", { name: "auth-listed" }).waitFor();
    await shot("auth-executions");
    // The token lives in the tab's sessionStorage and survives a reload, in no cookie.
    await page.reload();
    await page.getByRole("link", { name: "auth-listed" }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("jetflow.token")')).toBe(TOKENS.operator);
    expect(await page.context().cookies()).toEqual([]);
  });

  it("follows a running execution live over SSE that carries the token in a header, not the URL", async () => {
    const { executionId } = await post("/v1/executions", { workflowName: "auth-by-hand" });
    requests.length = 0;
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(executionId)}`);
    await stateHasStatus("First", "running");
    await page.getByTestId("live").waitFor();
    await completeTask(String(executionId), "First");
    await stateHasStatus("First", "succeeded");
    await stateHasStatus("Second", "running");
    await shot("auth-live");
    await completeTask(String(executionId), "Second");
    await stateHasStatus("Second", "succeeded");
    await page.locator('[data-testid="execution-page"][data-live="no"]').waitFor();
    // The page describes the execution again once its stream ends: the badge follows that answer.
    await page
      .getByTestId("execution-status")
      .first()
      .filter({ hasText: /^succeeded$/ })
      .waitFor();

    const watch = requests.find((r) => r.url().includes(`/v1/executions/${String(executionId)}/watch`));
    expect(watch).toBeDefined();
    expect((await watch?.allHeaders())?.authorization).toBe(`Bearer ${TOKENS.operator}`);
    for (const request of requests) expect(request.url()).not.toContain(TOKENS.operator);
  });

  it("tells a reader that stopping needs the operator role, and leaves the execution running", async () => {
    const { executionId } = await post("/v1/executions", { workflowName: "auth-waiting" });
    await page.getByTestId("sign-out").click();
    await page.getByTestId("sign-in").waitFor();
    expect(await page.evaluate('sessionStorage.getItem("jetflow.token")')).toBeNull();
    await signInWith(TOKENS.reader);
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(executionId)}`);
    await stateHasStatus("Approve", "running");
    await page.getByTestId("stop-open").click();
    await page.getByTestId("stop-confirm").click();
    const denied = page.getByTestId("permission-denied");
    await denied.waitFor();
    expect(await denied.textContent()).toBe(
      'Permission denied: StopExecution needs the role "operator"; "reader-person" has "reader"',
    );
    await shot("auth-permission-denied");
    await page.reload();
    await stateHasStatus("Approve", "running");
    expect(await page.getByTestId("execution-status").first().textContent()).toBe("running");
  });

  it("signs in with a JWT from the identity provider as well as with a static token", async () => {
    await page.getByTestId("sign-out").click();
    await page.getByTestId("sign-in").waitFor();
    await signInWith(signJwt({ sub: "dana", roles: ["reader"] }));
    await page.getByTestId("signed-in").waitFor();
    await page.goto(fixture.engine.httpUrl);
    await page.getByRole("link", { name: "auth-waiting" }).waitFor();
  });

  it("colours the states inside a Map by the statuses of its iterations, with their counts", async () => {
    const { executionId: holding } = await post("/v1/executions", {
      workflowName: "auth-fan-out",
      inputJson: JSON.stringify({ items: [{ n: 1 }, { n: 2 }, { hold: true }] }),
    });
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(holding)}`);
    await stateHasStatus("Each", "running");
    await stateHasStatus("Each/*/Hold", "running");
    await stateHasStatus("Each/*/Finish", "succeeded");
    await stateHasStatus("Each/*/Echo", "succeeded");
    await stateHasStatus("Each/*/Explode", "none");
    await page.locator(`${stateBox("Each/*/Echo", "succeeded")}[data-note="3 succeeded"]`).waitFor();
    await page.locator(`${stateBox("Each/*/Hold", "running")}[data-note="1 running"]`).waitFor();
    await page.locator(`${stateBox("Each/*/Finish", "succeeded")}[data-note="2 succeeded"]`).waitFor();
    await page
      .locator(`${stateBox("Each", "running")}[data-note="3 items · 2 succeeded · 1 running"]`)
      .waitFor();
    await shot("auth-map-running");

    const { executionId: failing } = await post("/v1/executions", {
      workflowName: "auth-fan-out",
      inputJson: JSON.stringify({ items: [{ boom: true }] }),
    });
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(failing)}`);
    await page.getByTestId("execution-status").getByText("failed").waitFor();
    await stateHasStatus("Each", "failed");
    await stateHasStatus("Each/*/Explode", "failed");
    await stateHasStatus("Each/*/Echo", "succeeded");
    await stateHasStatus("Each/*/Hold", "none");
    await shot("auth-map-failed");
  });
});
