// The example workflows' business logic (examples/dist/activities, compiled from examples/src)
// as the contract worker's handlers. Only the activities' own modules are loaded, not their
// index (which imports @jetflow/worker-sdk): the protocol side stays free of @jetflow code.
"use strict";

const { join } = require("node:path");

const dist = join(__dirname, "../../examples/dist");
const { createLatency } = require(join(dist, "simulate.js"));
const { Ledger } = require(join(dist, "activities/deps.js"));
const { orderActivities } = require(join(dist, "activities/orders.js"));
const { invoicingActivities } = require(join(dist, "activities/invoicing.js"));
const { subscriptionActivities } = require(join(dist, "activities/subscriptions.js"));
const { approvalActivities } = require(join(dist, "activities/approvals.js"));
const { notificationActivities } = require(join(dist, "activities/notifications.js"));

const quiet = () => {};
const deps = {
  log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  latency: createLatency(0.05),
  ledger: new Ledger(),
};

exports.handlers = {
  ...orderActivities(deps),
  ...invoicingActivities(deps),
  ...subscriptionActivities(deps),
  ...approvalActivities(deps),
  ...notificationActivities(deps),
};
