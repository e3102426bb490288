/**
 * The engine creates each activity's task consumer when a workflow using the activity is
 * registered, so a worker only binds to it (and a task published before any worker started is
 * kept for the first one). Workers may still create it: whoever comes first wins, and an
 * existing consumer is never changed here, so a worker's own ack wait stays.
 */
import { activityName } from "@jetflow/asl";
import type { StateMachine } from "@jetflow/asl";
import { consumerConfigs, consumers, streams } from "@jetflow/contracts";
import { JetStreamApiCodes } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { isApiError } from "@jetflow/contracts";

/** Every activity a machine's Task states name, in its branches and item processors too. */
export function activitiesOf(machine: StateMachine): Set<string> {
  const found = new Set<string>();
  const visit = (m: StateMachine): void => {
    for (const state of Object.values(m.States)) {
      if (state.Type === "Task") found.add(activityName(state.Resource));
      else if (state.Type === "Parallel") state.Branches.forEach(visit);
      else if (state.Type === "Map") {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (processor) visit(processor);
      }
    }
  };
  visit(machine);
  return found;
}

/**
 * Creates the task consumer of each activity that has none, with the default configuration
 * (`consumerConfigs.task`). Idempotent and safe against a worker creating the same consumer.
 */
export async function ensureTaskConsumers(
  jsm: JetStreamManager,
  activities: Iterable<string>,
): Promise<void> {
  await Promise.all([...activities].map((activity) => ensureTaskConsumer(jsm, activity)));
}

async function ensureTaskConsumer(jsm: JetStreamManager, activity: string): Promise<void> {
  const name = consumers.task(activity);
  if (await consumerExists(jsm, name)) return;
  try {
    await jsm.consumers.add(streams.tasks, consumerConfigs.task(activity));
  } catch (err) {
    // A worker created it (maybe with its own ack wait) between our look-up and our add.
    if (!(await consumerExists(jsm, name))) throw err;
  }
}

async function consumerExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.consumers.info(streams.tasks, name);
    return true;
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return false;
    throw err;
  }
}
