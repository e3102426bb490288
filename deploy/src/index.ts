/**
 * @jetflow/deploy: renders the Kubernetes overlays in `k8s/` and checks them (Kubernetes schemas
 * and jetflow's deployment rules). `jetflow-validate-manifests <overlay>...` is the command line.
 */
export { renderOverlay, describeObject, RenderError } from "./render";
export type { KubeObject } from "./render";
export { validateSchemas, formatProblem, toFieldPath } from "./schema";
export type { Problem } from "./schema";
export { checkUnknownFields } from "./strict";
export { checkPolicy, EXTERNAL_SECRETS } from "./policy";
export type { Profile } from "./policy";
export { validateOverlay, checkRendered, checkMonitors, isMonitorsOnly } from "./validate";
export { checkMonitorShape, checkMonitorTargets, isMonitor, selectorMatches } from "./monitors";
export type { OverlayResult } from "./validate";
export { checkDashboard, dashboardExpressions, jetflowMetricNames } from "./dashboard";
export type { DashboardProblem } from "./dashboard";
