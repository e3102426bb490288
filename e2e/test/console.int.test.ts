// The web console in a real browser: playwright-core drives Debian's chromium against the engine
// (its api-gateway serves the console built by `pnpm build`). Screenshots of each page go to
// e2e/artifacts/console/ (gitignored) for a person to look at.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { useEngine } from "./fixture";

const fixture = useEngine();
const ARTIFACTS = resolve(__dirname, "../artifacts/console");
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const STEP_TIMEOUT_MS = 30_000;

let browser: Browser;
let page: Page;

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
});

afterAll(async () => {
  await browser?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${fixture.engine.httpUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Waits until the graph shows `state` with `status`. */
async function stateHasStatus(state: string, status: string): Promise<void> {
  try {
    await page.locator(`[data-testid="state"][data-state="${state}"][data-status="${status}"]`).waitFor();
  } catch (err) {
    await shot(`failed-${state.replaceAll("/", "_")}-${status}`);
    throw err;
  }
}

// A Choice, a Parallel, a Map, a caught failure and a Fail state: every kind of edge and group.
const demo = `
Comment: every shape the console draws
StartAt: Check
States:
  Check:
    Type: Choice
    Choices:
      - Variable: $.n
        NumericGreaterThan: 0
        Next: Fan out
    Default: Not positive
  Fan out:
    Type: Parallel
    ResultPath: $.fan
    Next: Each item
    Branches:
      - StartAt: Add one
        States:
          Add one: { Type: Task, Resource: inc, End: true }
      - StartAt: Note
        States:
          Note: { Type: Pass, End: true }
  Each item:
    Type: Map
    ItemsPath: $.items
    ResultPath: $.each
    Next: Risky
    ItemProcessor:
      StartAt: Echo
      States:
        Echo: { Type: Task, Resource: echo, End: true }
  Risky:
    Type: Task
    Resource: fail
    Parameters: { error: Boom, cause: on purpose }
    Catch:
      - ErrorEquals: [Boom]
        ResultPath: $.error
        Next: Recover
    Next: Done
  Recover: { Type: Pass, Next: Done }
  Done: { Type: Succeed }
  Not positive: { Type: Fail, Error: NotPositive, Cause: n must be positive }
`;

const slow = JSON.stringify({
  StartAt: "First",
  States: {
    First: { Type: "Task", Resource: "sleep-inc", Next: "Second" },
    Second: { Type: "Task", Resource: "sleep-inc", End: true },
  },
});
// Fails once, then succeeds after a retry three seconds later: long enough to see it retrying.
const flaky = JSON.stringify({
  StartAt: "Shaky",
  States: {
    Shaky: {
      Type: "Task",
      Resource: "flaky",
      Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 3, MaxAttempts: 2 }],
      End: true,
    },
  },
});
// No worker serves "external": the execution waits until stopped or called back.
const waiting = JSON.stringify({
  StartAt: "Approve",
  States: { Approve: { Type: "Task", Resource: "external", End: true } },
});

beforeAll(async () => {
  await post("/v1/workflows", { name: "console-demo", definition: demo, description: "every shape" });
  await post("/v1/workflows", { name: "console-slow", definition: slow });
  await post("/v1/workflows", { name: "console-waiting", definition: waiting });
  await post("/v1/workflows", { name: "console-flaky", definition: flaky });
});

describe("the web console", () => {
  it("finds an execution in the list and draws its graph with each state's status", async () => {
    await post("/v1/executions", {
      workflowName: "console-demo",
      executionName: "demo-ok",
      inputJson: JSON.stringify({ n: 1, items: [1, 2, 3] }),
    });
    await post("/v1/executions", {
      workflowName: "console-demo",
      executionName: "demo-bad",
      inputJson: '{"n":0}',
    });

    await page.goto(fixture.engine.httpUrl);
    await page.getByRole("link", { name: "console-demo" }).waitFor();
    await shot("workflows");
    await page.getByRole("link", { name: "Executions", exact: true }).click();
    await page.getByTestId("filter-prefix").fill("demo-");
    await page.getByTestId("filter-apply").click();
    await page.getByRole("link", { name: "demo-ok" }).waitFor();
    await page.getByRole("link", { name: "demo-bad" }).waitFor();
    await shot("executions");
    await page.getByRole("link", { name: "demo-ok" }).click();

    await page.getByTestId("graph").waitFor();
    for (const state of ["Check", "Fan out", "Each item", "Recover", "Done"])
      await stateHasStatus(state, "succeeded");
    await stateHasStatus("Risky", "caught");
    await stateHasStatus("Not positive", "none");
    // States inside the Parallel's branches come from the branches' own histories.
    await stateHasStatus("Fan out/0/Add one", "succeeded");
    await stateHasStatus("Fan out/1/Note", "succeeded");
    // States inside the Map from its iterations' histories, with their counts.
    await page
      .locator(
        '[data-testid="state"][data-state="Each item/*/Echo"][data-status="succeeded"][data-note="3 succeeded"]',
      )
      .waitFor();
    await page
      .getByTestId("execution-status")
      .first()
      .filter({ hasText: /^succeeded$/ })
      .waitFor();
    await page.getByTestId("tab-children").click();
    await page
      .locator('[data-testid="children"][data-state="Each item"]')
      .getByText("3 items · 3 succeeded")
      .waitFor();
    await shot("execution-succeeded");

    await page.locator('[data-state="Risky"]').click();
    await page.getByTestId("state-details").getByText("Boom").first().waitFor();

    await page.goBack();
    await page.getByRole("link", { name: "demo-bad" }).click();
    await stateHasStatus("Not positive", "failed");
    await stateHasStatus("Check", "succeeded");
    await stateHasStatus("Fan out", "none");
    await page.getByTestId("tab-io").click();
    expect(await page.getByTestId("execution-error").textContent()).toBe("NotPositive");
    await shot("execution-failed");
  });

  it("colours a running execution live as its states finish", async () => {
    const { executionId } = await post("/v1/executions", {
      workflowName: "console-slow",
      inputJson: JSON.stringify({ n: 0, ms: 4000 }),
    });
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(executionId)}`);
    await stateHasStatus("First", "running");
    await page.getByTestId("live").waitFor();
    await shot("execution-running");
    await stateHasStatus("Second", "running");
    await stateHasStatus("First", "succeeded");
    await stateHasStatus("Second", "succeeded");
    await page.locator('[data-testid="execution-page"][data-live="no"]').waitFor();
    // The page describes the execution again once its stream ends: the badge follows that answer.
    await page
      .getByTestId("execution-status")
      .first()
      .filter({ hasText: /^succeeded$/ })
      .waitFor();
  });

  it("shows a state retrying after its task failed, then succeeded", async () => {
    const { executionId } = await post("/v1/executions", {
      workflowName: "console-flaky",
      inputJson: JSON.stringify({ succeedOn: 2 }),
    });
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(executionId)}`);
    await stateHasStatus("Shaky", "retrying");
    await shot("execution-retrying");
    await stateHasStatus("Shaky", "succeeded");
  });

  it("stops a running execution from its page, and shows its open task token until then", async () => {
    const { executionId } = await post("/v1/executions", { workflowName: "console-waiting" });
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(executionId)}`);
    await stateHasStatus("Approve", "running");
    await page.getByTestId("tab-tasks").click();
    const token = await page.getByTestId("task-token").textContent();
    expect(token).toMatch(new RegExp(`^${String(executionId)}`));
    await page.getByTestId("stop-open").click();
    await page.getByTestId("stop-confirm").click();
    await stateHasStatus("Approve", "aborted");
    await page.getByTestId("execution-status").getByText("aborted").waitFor();
    await shot("execution-stopped");
  });

  it("completes a task by its token from the execution's page", async () => {
    const { executionId } = await post("/v1/executions", { workflowName: "console-waiting" });
    await page.goto(`${fixture.engine.httpUrl}/executions/${String(executionId)}`);
    await stateHasStatus("Approve", "running");
    await page.getByTestId("tab-tasks").click();
    await page.getByTestId("task-output").fill('{"approved": true}');
    await page.getByTestId("task-success").click();
    await stateHasStatus("Approve", "succeeded");
    await page.getByTestId("tab-io").click();
    await page.getByTestId("execution-output").getByText('"approved": true').waitFor();
  });

  it("starts an execution with a JSON input from the workflow's page", async () => {
    await page.goto(`${fixture.engine.httpUrl}/workflows/console-demo`);
    await page.getByTestId("graph").waitFor();
    await shot("workflow");
    await page.getByTestId("start-input").fill('{"n": 5, "items": ["a", "b"]}');
    await page.getByTestId("start-name").fill("from-the-console");
    await page.getByTestId("start-button").click();
    await page.getByTestId("execution-page").waitFor();
    await stateHasStatus("Done", "succeeded");
    await page.getByTestId("tab-io").click();
    await page.getByTestId("execution-input").getByText('"n": 5').waitFor();
    expect(page.url()).toMatch(/\/executions\/[^/]+$/);
  });

  it("validates a broken definition and shows each problem at its line", async () => {
    await page.goto(`${fixture.engine.httpUrl}/validate`);
    await page
      .getByTestId("definition-input")
      .fill(
        [
          "StartAt: Missing",
          "States:",
          "  A:",
          "    Type: Task",
          "    End: true",
          "  B:",
          "    Type: Wait",
        ].join("\n"),
      );
    await page.getByTestId("validate-button").click();
    await page.getByTestId("problems").waitFor();
    const problems = await page
      .getByTestId("problem")
      .evaluateAll((items) =>
        items.map((item) => ({ line: item.getAttribute("data-line"), text: item.textContent })),
      );
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(problems[0]).toEqual({ line: "1", text: expect.stringContaining('there is no "Missing"') });
    expect(problems.some((p) => p.line === "3" && p.text?.includes('"Resource" is required'))).toBe(true);
    expect(problems.some((p) => p.line === "6")).toBe(true);
    await page.locator('[data-testid="annotated-source"] li.has-problem[data-line="1"]').waitFor();
    await shot("validate");
  });
});
