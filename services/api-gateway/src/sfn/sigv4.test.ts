import { SfnError } from "./errors";
import { parseAccessKeys, signatureOf, signingKey, verifySignature } from "./sigv4";
import type { SignedRequest } from "./sigv4";

// AWS's published SigV4 test suite, case "get-vanilla".
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const VANILLA_SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const SIGNED_AT = Date.UTC(2015, 7, 30, 12, 36, 0);

function vanilla(signature = VANILLA_SIGNATURE, keyId = "AKIDEXAMPLE"): SignedRequest {
  return {
    method: "GET",
    path: "/",
    query: "",
    headers: {
      host: "example.amazonaws.com",
      "x-amz-date": "20150830T123600Z",
      authorization:
        `AWS4-HMAC-SHA256 Credential=${keyId}/20150830/us-east-1/service/aws4_request, ` +
        `SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
    body: Buffer.alloc(0),
  };
}

const keys = new Map([["AKIDEXAMPLE", SECRET]]);

function refusal(request: SignedRequest, nowMs = SIGNED_AT): SfnError {
  try {
    verifySignature(request, keys, nowMs);
  } catch (err) {
    if (err instanceof SfnError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("SigV4 verification", () => {
  it("derives AWS's documented signing key", () => {
    expect(signingKey(SECRET, "20120215", "us-east-1", "iam").toString("hex")).toBe(
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
    );
  });

  it("computes the signature of AWS's get-vanilla test case", () => {
    const signature = signatureOf(
      vanilla(),
      ["host", "x-amz-date"],
      "20150830T123600Z",
      { date: "20150830", region: "us-east-1", service: "service" },
      SECRET,
    );
    expect(signature).toBe(VANILLA_SIGNATURE);
  });

  it("accepts the right signature and says who signed", () => {
    expect(verifySignature(vanilla(), keys, SIGNED_AT + 60_000)).toEqual({
      accessKeyId: "AKIDEXAMPLE",
      region: "us-east-1",
      service: "service",
    });
  });

  it("refuses a wrong signature, an unknown key, a missing or malformed header, and a stale time", () => {
    expect(refusal(vanilla("0".repeat(64))).type).toBe("InvalidSignatureException");
    expect(refusal(vanilla(VANILLA_SIGNATURE, "AKIDOTHER"))).toMatchObject({
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    });
    expect(refusal({ ...vanilla(), headers: { host: "h" } }).type).toBe(
      "MissingAuthenticationTokenException",
    );
    expect(
      refusal({ ...vanilla(), headers: { ...vanilla().headers, authorization: "Basic abc" } }).type,
    ).toBe("IncompleteSignatureException");
    expect(refusal(vanilla(), SIGNED_AT + 6 * 60_000).message).toMatch(
      /^Signature expired: 20150830T123600Z/,
    );
    expect(refusal(vanilla(), SIGNED_AT + 6 * 60_000).httpStatus).toBe(400);
  });

  it("refuses a body changed after signing", () => {
    const request = vanilla();
    expect(refusal({ ...request, body: Buffer.from("{}") }).type).toBe("InvalidSignatureException");
  });
});

describe("parseAccessKeys", () => {
  it("reads id:secret pairs, secrets may hold colons, each key an admin named by its id", () => {
    expect(parseAccessKeys("A:one, B:two:three")).toEqual(
      new Map([
        ["A", { secret: "one", name: "A", role: "admin" }],
        ["B", { secret: "two:three", name: "B", role: "admin" }],
      ]),
    );
  });

  it("reads a JSON array with roles, names and workflow prefixes", () => {
    const text = JSON.stringify([
      { accessKeyId: "R", secret: "r:s", role: "reader" },
      { accessKeyId: "T", secret: "t", role: "operator", name: "team-a-ci", workflowPrefixes: ["team-a-"] },
    ]);
    expect(parseAccessKeys(` ${text}`)).toEqual(
      new Map([
        ["R", { secret: "r:s", name: "R", role: "reader", workflowPrefixes: undefined }],
        ["T", { secret: "t", name: "team-a-ci", role: "operator", workflowPrefixes: ["team-a-"] }],
      ]),
    );
  });

  it("names a malformed JSON entry by position, never printing a secret", () => {
    expect(parseAccessKeys('[{"accessKeyId":"A","secret":"hush","role":"root"}]')).toBe(
      'SFN_ACCESS_KEYS [0].role must be one of reader, operator, admin, got "root"',
    );
    expect(parseAccessKeys('[{"accessKeyId":"A","secret":"hush"', "SFN_ACCESS_KEYS_FILE")).toBe(
      "SFN_ACCESS_KEYS_FILE must be id:secret pairs or a JSON array " +
        '[{"accessKeyId","secret","role"}...] (optional "name", "workflowPrefixes"), got invalid JSON',
    );
    expect(
      parseAccessKeys(
        '[{"accessKeyId":"A","secret":"x","role":"admin"},{"accessKeyId":"A","secret":"y","role":"admin"}]',
      ),
    ).toBe('SFN_ACCESS_KEYS [1].accessKeyId "A" appears twice');
    expect(parseAccessKeys('[{"accessKeyId":"A","secret":"x","role":"admin","workflowPrefixes":"a"}]')).toBe(
      "SFN_ACCESS_KEYS [0].workflowPrefixes must be an array of non-empty strings",
    );
  });

  it("names a malformed pair by position, never printing its text", () => {
    expect(parseAccessKeys("A:one,nocolon")).toBe(
      "SFN_ACCESS_KEYS must be comma-separated id:secret pairs; pair 2 is not",
    );
  });
});
