/**
 * The structure checks of the Grafana dashboard (deploy/observability/grafana-dashboard.json):
 * what Grafana needs to import it and what keeps it usable, each problem naming the panel.
 */

/** One problem found in the dashboard, with the JSON path of the field at fault. */
export interface DashboardProblem {
  path: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Grafana's grid is 24 columns wide. */
const GRID_COLUMNS = 24;

/**
 * Checks a parsed dashboard: a uid and a title, a `datasource` variable of type prometheus that
 * every panel and query uses, unique panel ids, panels inside the 24-column grid and not
 * overlapping, and every query with a refId and a non-empty PromQL expression.
 */
export function checkDashboard(dashboard: unknown): DashboardProblem[] {
  const problems: DashboardProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  if (!isObject(dashboard)) return [{ path: "$", message: "must be a JSON object" }];
  for (const field of ["uid", "title"]) {
    if (typeof dashboard[field] !== "string" || dashboard[field] === "")
      problem(`$.${field}`, "must be a non-empty string");
  }
  const variables = isObject(dashboard["templating"]) ? dashboard["templating"]["list"] : undefined;
  const datasource = Array.isArray(variables)
    ? variables.find((v) => isObject(v) && v["name"] === "datasource")
    : undefined;
  if (!isObject(datasource) || datasource["type"] !== "datasource" || datasource["query"] !== "prometheus") {
    problem(
      "$.templating.list",
      'must define a variable "datasource" of type datasource querying prometheus',
    );
  }
  const panels = dashboard["panels"];
  if (!Array.isArray(panels) || panels.length === 0) {
    problem("$.panels", "must list panels");
    return problems;
  }
  const ids = new Set<unknown>();
  const cells = new Map<string, string>();
  panels.forEach((panel, index) => {
    const at = `$.panels[${index}]`;
    if (!isObject(panel)) {
      problem(at, "must be an object");
      return;
    }
    const name = `${at} ("${String(panel["title"] ?? "")}")`;
    if (typeof panel["id"] !== "number") problem(name, "must have a numeric id");
    else if (ids.has(panel["id"])) problem(name, `repeats panel id ${panel["id"]}`);
    ids.add(panel["id"]);
    const grid = panel["gridPos"];
    if (!isObject(grid) || [grid["x"], grid["y"], grid["w"], grid["h"]].some((n) => typeof n !== "number")) {
      problem(name, "must have a gridPos with numeric x, y, w and h");
    } else {
      const x = grid["x"] as number;
      const y = grid["y"] as number;
      const w = grid["w"] as number;
      const h = grid["h"] as number;
      if (x < 0 || w < 1 || x + w > GRID_COLUMNS)
        problem(`${name}.gridPos`, `must fit the ${GRID_COLUMNS} columns`);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          const taken = cells.get(`${column},${row}`);
          if (taken !== undefined) {
            problem(`${name}.gridPos`, `overlaps ${taken}`);
            return;
          }
          cells.set(`${column},${row}`, name);
        }
      }
    }
    if (panel["type"] === "row") return;
    if (!usesDatasourceVariable(panel["datasource"]))
      problem(`${name}.datasource`, 'must be the "${datasource}" variable');
    const targets = panel["targets"];
    if (!Array.isArray(targets) || targets.length === 0) {
      problem(`${name}.targets`, "must have at least one query");
      return;
    }
    targets.forEach((target, t) => {
      const tat = `${name}.targets[${t}]`;
      if (!isObject(target)) {
        problem(tat, "must be an object");
        return;
      }
      if (typeof target["refId"] !== "string" || target["refId"] === "") problem(tat, "must have a refId");
      if (typeof target["expr"] !== "string" || target["expr"].trim() === "")
        problem(tat, "must have a PromQL expr");
      if (target["datasource"] !== undefined && !usesDatasourceVariable(target["datasource"])) {
        problem(`${tat}.datasource`, 'must be the "${datasource}" variable');
      }
    });
  });
  return problems;
}

function usesDatasourceVariable(value: unknown): boolean {
  return isObject(value) && value["type"] === "prometheus" && value["uid"] === "${datasource}";
}

/** Every PromQL expression of the dashboard's queries, in panel order. */
export function dashboardExpressions(dashboard: unknown): string[] {
  if (!isObject(dashboard) || !Array.isArray(dashboard["panels"])) return [];
  return dashboard["panels"].flatMap((panel) =>
    isObject(panel) && Array.isArray(panel["targets"])
      ? panel["targets"].flatMap((t) => (isObject(t) && typeof t["expr"] === "string" ? [t["expr"]] : []))
      : [],
  );
}

/**
 * The jetflow metric names a PromQL text mentions (`jetflow_...`), with a histogram's
 * `_bucket`/`_count`/`_sum` suffix taken off.
 */
export function jetflowMetricNames(text: string): string[] {
  const names = new Set<string>();
  for (const [name] of text.matchAll(/\bjetflow_[a-z0-9_]+/g)) {
    names.add(name.replace(/_(bucket|count|sum)$/, ""));
  }
  return [...names].sort();
}
