import { createHash } from "node:crypto";
import {
  InvalidActivityNameError,
  InvalidActivityTokenError,
  MAX_ACTIVITY_CONSUMER_NAME_BYTES,
  activityConsumerName,
  activityNameProblem,
  assertActivityName,
  decodeActivityToken,
  encodeActivityToken,
  isActivityName,
} from "./activity-names";
import { consumerConfigs } from "./resources";
import { activityFromSubject, subjects } from "./subjects";

/** A small deterministic generator (mulberry32), so a failing name can be reproduced. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Plain characters, every printable ASCII character, Latin-1 and beyond, CJK, astral emoji.
const ALPHABET = [
  ..."abcXYZ019_-",
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
  ..."çéßøÅ€ñ",
  ..."数据処理",
  "😀",
  "𝄞",
  "\u00a0",
  "\u200b",
];

function randomName(random: () => number, alphabet: readonly string[]): string {
  const length = 1 + Math.floor(random() * 80);
  let name = "";
  for (let i = 0; i < length; i++) name += alphabet[Math.floor(random() * alphabet.length)] as string;
  return name;
}

describe("encodeActivityToken / decodeActivityToken", () => {
  it("encodes the examples of the worker contract", () => {
    expect(encodeActivityToken("billing.charge-card")).toBe("billing~2Echarge-card");
    expect(encodeActivityToken("envoyer-reçu")).toBe("envoyer-re~C3~A7u");
    expect(encodeActivityToken("a b/c")).toBe("a~20b~2Fc");
    expect(encodeActivityToken("😀")).toBe("~F0~9F~98~80");
    expect(decodeActivityToken("billing~2Echarge-card")).toBe("billing.charge-card");
    expect(decodeActivityToken("envoyer-re~C3~A7u")).toBe("envoyer-reçu");
  });

  it("leaves names made of letters, digits, _ and - unchanged, so existing subjects stay", () => {
    for (const name of ["send-email", "Charge_Card2", "x", "a".repeat(80)]) {
      expect(encodeActivityToken(name)).toBe(name);
      expect(decodeActivityToken(name)).toBe(name);
    }
    expect(subjects.task("send-email")).toBe("jetflow.tasks.send-email");
    expect(consumerConfigs.task("send-email").durable_name).toBe("tasks-send-email");
  });

  it("round-trips 5,000 generated names into single, distinct, wildcard-free subject tokens", () => {
    const random = seeded(20261203);
    const tokens = new Map<string, string>();
    for (let i = 0; i < 5_000; i++) {
      const name = randomName(random, ALPHABET);
      const token = encodeActivityToken(name);
      expect(token).toMatch(/^[A-Za-z0-9_~-]+$/);
      expect(decodeActivityToken(token)).toBe(name);
      const other = tokens.get(token);
      if (other !== undefined) expect(other).toBe(name);
      tokens.set(token, name);
    }
    expect(tokens.size).toBeGreaterThan(4_900);
  });

  it("round-trips every valid generated name through the subjects and back", () => {
    const random = seeded(7);
    let checked = 0;
    for (let i = 0; i < 2_000; i++) {
      const name = randomName(random, ALPHABET);
      if (!isActivityName(name)) continue;
      checked++;
      for (const subject of [
        subjects.task(name),
        subjects.result(name),
        subjects.heartbeat(name),
        subjects.taskCancel(name),
      ]) {
        expect(subject.split(".")).toHaveLength(3);
        expect(activityFromSubject(subject)).toBe(name);
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it("refuses what has no UTF-8 form", () => {
    expect(() => encodeActivityToken("")).toThrow(new InvalidActivityNameError("", "it must not be empty"));
    expect(() => encodeActivityToken("a\ud800")).toThrow(
      'invalid activity name "a\\ud800": it contains a lone surrogate (U+D800)',
    );
  });

  it.each([
    ["", 'expected letters, digits, "_", "-" and "~" followed by two uppercase hex digits'],
    ["a.b", 'expected letters, digits, "_", "-" and "~" followed by two uppercase hex digits'],
    ["a~2e", 'expected letters, digits, "_", "-" and "~" followed by two uppercase hex digits'],
    ["a~2", 'expected letters, digits, "_", "-" and "~" followed by two uppercase hex digits'],
    ["~h0123", 'expected letters, digits, "_", "-" and "~" followed by two uppercase hex digits'],
    ["~41", "it escapes a character that is written as itself"],
    ["re~C3", "its escaped bytes are not valid UTF-8"],
    ["~C0~AE", "its escaped bytes are not valid UTF-8"],
  ])("decodes only the exact output of the encoder: %j", (token, reason) => {
    expect(() => decodeActivityToken(token)).toThrow(new InvalidActivityTokenError(token, reason));
    expect(() => decodeActivityToken(token)).toThrow(
      `invalid activity token ${JSON.stringify(token)}: ${reason}`,
    );
  });
});

describe("activityConsumerName", () => {
  it("is tasks-<token> up to 200 bytes, then a hash of the name", () => {
    expect(activityConsumerName("billing.charge-card")).toBe("tasks-billing~2Echarge-card");
    const fits = `${"é".repeat(32)}ab`; // 6 + 32 × 6 + 2 = 200
    expect(activityConsumerName(fits)).toBe(`tasks-${encodeActivityToken(fits)}`);
    expect(activityConsumerName(fits)).toHaveLength(MAX_ACTIVITY_CONSUMER_NAME_BYTES);
    const tooLong = `${"é".repeat(32)}abc`;
    const digest = createHash("sha256").update(tooLong, "utf8").digest("hex").slice(0, 32);
    expect(activityConsumerName(tooLong)).toBe(`tasks-~h${digest}`);
    const longest = "数".repeat(80);
    expect(activityConsumerName(longest)).toMatch(/^tasks-~h[0-9a-f]{32}$/);
    expect(consumerConfigs.task(longest)).toMatchObject({
      durable_name: activityConsumerName(longest),
      filter_subject: `jetflow.tasks.${"~E6~95~B0".repeat(80)}`,
    });
  });

  it("never holds a character NATS forbids in a consumer name", () => {
    const random = seeded(99);
    for (let i = 0; i < 1_000; i++) {
      const name = activityConsumerName(randomName(random, ALPHABET));
      expect(name).toMatch(/^tasks-[A-Za-z0-9_~-]+$/);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_ACTIVITY_CONSUMER_NAME_BYTES);
    }
  });
});

describe("activityNameProblem", () => {
  it("accepts what Step Functions accepts", () => {
    for (const name of ["billing.charge-card", "envoyer-reçu", "数据", "a+b=c@d!'()", "😀".repeat(80)]) {
      expect(activityNameProblem(name)).toBeUndefined();
    }
    expect(assertActivityName("billing.charge-card")).toBe("billing.charge-card");
  });

  it.each([
    ["", "it must not be empty"],
    ["a".repeat(81), "it is 81 characters long; the limit is 80"],
    ["send email", "it contains whitespace (U+0020) at character 5"],
    ["a\u3000b", "it contains whitespace (U+3000) at character 2"],
    ["tab\there", "it contains the control character U+0009 at character 4"],
    ["x\u0085", "it contains the control character U+0085 at character 2"],
    ["jobs<1>", 'it contains the bracket "<" at character 5'],
    ["a{b}", 'it contains the bracket "{" at character 2'],
    ["list[0]", 'it contains the bracket "[" at character 5'],
    ["jobs.*", 'it contains the wildcard "*" at character 6'],
    ["what?", 'it contains the wildcard "?" at character 5'],
    ['say"hi"', 'it contains the special character "\\"" at character 4'],
    ["a~b", 'it contains the special character "~" at character 2'],
    ["orders/charge", 'it contains the special character "/" at character 7'],
    ["a\\b", 'it contains the special character "\\\\" at character 2'],
    ["ns:charge", 'it contains the special character ":" at character 3'],
    ["a\udc00", "it contains a lone surrogate (U+DC00) at character 2"],
  ])("refuses %j", (name, reason) => {
    expect(activityNameProblem(name)).toBe(reason);
    expect(() => assertActivityName(name)).toThrow(new InvalidActivityNameError(name, reason));
  });

  it("refuses every special character Step Functions lists", () => {
    for (const char of ['"', "#", "%", "\\", "^", "|", "~", "`", "$", "&", ",", ";", ":", "/"]) {
      expect(activityNameProblem(`a${char}`)).toBe(
        `it contains the special character ${JSON.stringify(char)} at character 2`,
      );
    }
  });
});
