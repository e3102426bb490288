/**
 * The observability assets in deploy/observability: promtool accepts the alert rules and their
 * unit tests pass (each alert fires on the series that should fire it, and only on them); the
 * Grafana dashboard has the structure Grafana needs; every metric they use is documented.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { checkDashboard, dashboardExpressions, jetflowMetricNames } from "../src/dashboard";

const run = promisify(execFile);
const DIR = resolve(__dirname, "..", "observability");
const DOCS = resolve(__dirname, "..", "..", "docs", "metrics.md");

/** promtool: `PROMTOOL_BIN`, else on PATH (Debian's prometheus package installs it). */
const promtool = process.env.PROMTOOL_BIN ?? "promtool";

async function promtoolRun(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(promtool, args, { cwd: DIR });
    return stdout + stderr;
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === "ENOENT") {
      throw new Error(
        'promtool not found: install it with "apt-get install prometheus" or set PROMTOOL_BIN',
        {
          cause: err,
        },
      );
    }
    throw new Error(`promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`, { cause: err });
  }
}

const dashboard: unknown = JSON.parse(readFileSync(join(DIR, "grafana-dashboard.json"), "utf8"));
const alerts = readFileSync(join(DIR, "alerts.yaml"), "utf8");

it("has alert rules that promtool accepts", async () => {
  expect(await promtoolRun("check", "rules", "alerts.yaml")).toContain("SUCCESS: 6 rules found");
});

it("fires each alert on the series that should fire it and on no other (promtool test rules)", async () => {
  expect(await promtoolRun("test", "rules", "alerts.test.yaml")).toContain("SUCCESS");
});

it("has a dashboard Grafana can import: datasource variable, unique ids, a tidy grid, a query per panel", () => {
  expect(checkDashboard(dashboard)).toEqual([]);
  expect(dashboardExpressions(dashboard).length).toBeGreaterThan(20);
});

it("finds what is wrong in a broken dashboard, naming the panel", () => {
  const broken = {
    uid: "x",
    title: "x",
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus" }] },
    panels: [
      { id: 1, type: "row", title: "Top", gridPos: { x: 0, y: 0, w: 24, h: 1 } },
      {
        id: 1,
        type: "timeseries",
        title: "Wide",
        datasource: { type: "prometheus", uid: "${datasource}" },
        gridPos: { x: 12, y: 1, w: 13, h: 8 },
        targets: [{ refId: "A", expr: " " }],
      },
    ],
  };
  expect(checkDashboard(broken)).toEqual([
    { path: '$.panels[1] ("Wide")', message: "repeats panel id 1" },
    { path: '$.panels[1] ("Wide").gridPos', message: "must fit the 24 columns" },
    { path: '$.panels[1] ("Wide").targets[0]', message: "must have a PromQL expr" },
  ]);
});

it("documents every metric the dashboard and the alerts use in docs/metrics.md", () => {
  const documented = new Set(jetflowMetricNames(readFileSync(DOCS, "utf8")));
  const used = jetflowMetricNames(`${dashboardExpressions(dashboard).join("\n")}\n${alerts}`);
  expect(used.filter((name) => !documented.has(name))).toEqual([]);
  expect(used.length).toBeGreaterThan(15);
});
