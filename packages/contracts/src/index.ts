/**
 * @jetflow/contracts: the messages, subjects and JetStream resources shared by jetflow's services
 * and its workers. Worker authors in other languages use the .proto files under proto/ instead.
 *
 * ```ts
 * import { Task, TaskResult, subjects, encode, decode } from "@jetflow/contracts";
 * const bytes = encode(TaskResult, { taskToken, outcome: { $case: "outputJson", value: "{}" }, workerId: "w1", completedTime: new Date() });
 * await js.publish(subjects.result("send-email"), bytes);
 * ```
 */
export * from "./gen/index";
export { httpRoutes, openApiDocument } from "./gen/http-api";
export type { HttpRoute, HttpField } from "./gen/http-api";
export {
  SUBJECT_ROOT,
  subjects,
  queueGroups,
  isSubjectToken,
  assertSubjectToken,
  InvalidSubjectTokenError,
  activityFromSubject,
} from "./subjects";
export {
  encodeActivityToken,
  decodeActivityToken,
  activityConsumerName,
  activityNameProblem,
  isActivityName,
  assertActivityName,
  InvalidActivityNameError,
  InvalidActivityTokenError,
  MAX_ACTIVITY_NAME_LENGTH,
  MAX_ACTIVITY_CONSUMER_NAME_BYTES,
} from "./activity-names";
export {
  streams,
  buckets,
  consumers,
  streamConfigs,
  consumerConfigs,
  bucketConfigs,
  ensureStream,
  ensureStreamExists,
  ensureConsumer,
  openOrCreateBucket,
  kvStreamName,
  kvKeySubject,
  isApiError,
  STREAM_NAME_IN_USE,
  DUPLICATE_WINDOW_NS,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_TASK_ACK_WAIT_MS,
} from "./resources";
export type { ResourceOptions } from "./resources";
export { encode, decode, DecodeError, embeddedMessageBytes } from "./codec";
export type { MessageType } from "./codec";
export {
  toTaskFailure,
  fromTaskFailure,
  TaskError,
  TASK_FAILED,
  MAX_ERROR_NAME_LENGTH,
  MAX_CAUSE_LENGTH,
} from "./errors";
export { formatHeartbeatRecord, parseHeartbeatRecord } from "./heartbeat-record";
export { DEAD_LETTER_DELIVERIES_HEADER, deadLetterReplayMsgId, deadLetterSubjectInfo } from "./dead-letters";
export type { DeadLetterKind, DeadLetterSubjectInfo } from "./dead-letters";
export { RESULT_WORKFLOW_HEADER, RESULT_STATE_HEADER, MAX_RESULT_NAME_HEADER_BYTES } from "./result-headers";
