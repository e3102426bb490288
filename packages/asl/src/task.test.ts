import { AslValidationError, StatesError } from "./errors";
import { activityName, checkActivityResource, taskTimeouts } from "./task";
import type { TaskState } from "./types";

const RULE =
  'an activity name may not contain whitespace, control characters, < > { } [ ] ? * or " # % \\ ^ | ~ ` $ & , ; : /';

describe("activityName", () => {
  it("accepts a plain activity name", () => {
    expect(activityName("send-email")).toBe("send-email");
    expect(activityName("Charge_Card2")).toBe("Charge_Card2");
  });

  it("maps an activity ARN to its name, in any partition", () => {
    expect(activityName("arn:aws:states:us-east-1:123456789012:activity:send-email")).toBe("send-email");
    expect(activityName("arn:aws-cn:states:cn-north-1:123456789012:activity:x")).toBe("x");
  });

  it("accepts any name Step Functions accepts for an activity, plain or in an ARN", () => {
    for (const name of ["billing.charge-card", "envoyer-reçu", "数据处理", "a+b=c@d!'()", "😀".repeat(80)]) {
      expect(activityName(name)).toBe(name);
      expect(activityName(`arn:aws:states:eu-west-3:123456789012:activity:${name}`)).toBe(name);
    }
  });

  it.each([
    ["send email", "whitespace (U+0020) at character 5"],
    ["a\u00a0b", "whitespace (U+00A0) at character 2"],
    ["tab\there", "the control character U+0009 at character 4"],
    ["x\u007f", "the control character U+007F at character 2"],
    ["x\u0085", "the control character U+0085 at character 2"],
    ["jobs.*", 'the wildcard "*" at character 6'],
    ["why?", 'the wildcard "?" at character 4'],
    ["a>", 'the bracket ">" at character 2'],
    ["list[0]", 'the bracket "[" at character 5'],
    ["{x}", 'the bracket "{" at character 1'],
    ["<y", 'the bracket "<" at character 1'],
    ["orders/charge", 'the special character "/" at character 7'],
    ["a~b", 'the special character "~" at character 2'],
    ['say"hi"', 'the special character "\\"" at character 4'],
    ["back\\slash", 'the special character "\\\\" at character 5'],
    ["a\udc00", "a lone surrogate (U+DC00) at character 2"],
    ...["#", "%", "^", "|", "`", "$", "&", ",", ";", ":"].map((char) => [
      `a${char}`,
      `the special character ${JSON.stringify(char)} at character 2`,
    ]),
  ])("rejects %j, naming the character and where it is", (name, what) => {
    const message = `activity name ${JSON.stringify(name)} contains ${what}; ${RULE}`;
    expect(() => activityName(name)).toThrow(AslValidationError);
    expect(() => activityName(name)).toThrow(`invalid state machine definition: Resource: ${message}`);
  });

  it.each([
    ["", "activity name must not be empty"],
    ["arn:aws:states:us-east-1:123456789012:activity:", "activity name must not be empty"],
    [
      "arn:aws:states:::lambda:invoke",
      'resource "arn:aws:states:::lambda:invoke" is not supported: jetflow runs activities only; use an activity name such as "send-email" or an ARN arn:aws:states:<region>:<account>:activity:<name>',
    ],
    [
      "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld",
      'resource "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld" is not supported: jetflow runs activities only; use an activity name such as "send-email" or an ARN arn:aws:states:<region>:<account>:activity:<name>',
    ],
  ])("rejects %j", (resource, message) => {
    expect(() => activityName(resource)).toThrow(AslValidationError);
    expect(() => activityName(resource)).toThrow(`invalid state machine definition: Resource: ${message}`);
  });

  it("limits the name length", () => {
    expect(checkActivityResource("a".repeat(81), 80)).toEqual({
      ok: false,
      message: `activity name "${"a".repeat(81)}" is 81 characters long; the limit is 80`,
    });
    // characters are counted as Unicode code points, as Step Functions does
    expect(checkActivityResource("😀".repeat(80), 80)).toEqual({ ok: true, name: "😀".repeat(80) });
  });
});

describe("taskTimeouts", () => {
  const task = (fields: Partial<TaskState>): TaskState => ({
    Type: "Task",
    Resource: "x",
    End: true,
    ...fields,
  });

  it("has no default timeout", () => {
    expect(taskTimeouts(task({}), {})).toEqual({});
  });

  it("returns the static values", () => {
    expect(taskTimeouts(task({ TimeoutSeconds: 300, HeartbeatSeconds: 60 }), {})).toEqual({
      timeoutSeconds: 300,
      heartbeatSeconds: 60,
    });
  });

  it("reads the path forms from the input after InputPath, before Parameters", () => {
    const state = task({
      InputPath: "$.job",
      Parameters: { JobName: "myGlueJob" },
      TimeoutSecondsPath: "$.params.maxTime",
      HeartbeatSecondsPath: "$.hb",
    });
    expect(taskTimeouts(state, { job: { params: { maxTime: 120 }, hb: 30 } })).toEqual({
      timeoutSeconds: 120,
      heartbeatSeconds: 30,
    });
  });

  it.each([
    [{ TimeoutSecondsPath: "$.t" }, {}, `TimeoutSecondsPath "$.t" matches nothing in the state's input`],
    [
      { TimeoutSecondsPath: "$.t" },
      { t: 0 },
      'TimeoutSecondsPath "$.t" selected 0, but it must be a positive integer',
    ],
    [
      { TimeoutSecondsPath: "$.t" },
      { t: "10" },
      'TimeoutSecondsPath "$.t" selected "10", but it must be a positive integer',
    ],
    [
      { HeartbeatSecondsPath: "$.h" },
      { h: 1.5 },
      'HeartbeatSecondsPath "$.h" selected 1.5, but it must be a positive integer',
    ],
    [
      { TimeoutSeconds: 30, HeartbeatSecondsPath: "$.h" },
      { h: 30 },
      "heartbeat of 30 seconds must be shorter than the timeout of 30 seconds",
    ],
    [
      { TimeoutSecondsPath: "$.t" },
      { t: 100_000_000 },
      "timeout of 100000000 seconds exceeds the limit of 99999999",
    ],
  ])("fails with States.Runtime for %j on %j", (fields, input, cause) => {
    expect(() => taskTimeouts(task(fields), input)).toThrow(new StatesError("States.Runtime", cause).message);
  });
});
