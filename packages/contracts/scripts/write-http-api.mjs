// Writes src/gen/http-api.ts from the `google.api.http` annotations of proto/: the HTTP route of
// every WorkflowService method (with the request fields each route reads from the path, query or
// body) and an OpenAPI 3 document of the whole API. The routes exist only in the .proto files;
// this is the one step that turns them into code, and generate:check keeps it fresh.
// Reads the descriptors through `buf build` (offline: google/api/*.proto live in proto/).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;
const genDir = process.argv[2] ? process.argv[2] : new URL("../src/gen/", import.meta.url).pathname;
const buf = join(root, "packages/contracts/node_modules/.bin/buf");
const image = JSON.parse(
  execFileSync(buf, ["build", "-o", "-#format=json"], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).toString(),
);

const SERVICE = "jetflow.v1.WorkflowService";
const VERBS = ["get", "put", "post", "delete", "patch"];

/** Every message and enum of the image by full name (".pkg.Name"), with its comments. */
const messages = new Map();
const enums = new Map();
function comment(file, path) {
  const location = file.sourceCodeInfo?.location?.find((l) => l.path?.join(".") === path.join("."));
  const text = location?.leadingComments ?? "";
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join(" ");
}
function collect(file, prefix, types, path) {
  (types ?? []).forEach((message, i) => {
    const name = `${prefix}.${message.name}`;
    const at = [...path, i];
    messages.set(name, {
      message,
      description: comment(file, at),
      fields: (message.field ?? []).map((field, f) => ({ field, description: comment(file, [...at, 2, f]) })),
    });
    collect(file, name, message.nestedType, [...at, 3]);
    (message.enumType ?? []).forEach((e) => enums.set(`${name}.${e.name}`, e));
  });
}
for (const file of image.file) {
  const prefix = file.package ? `.${file.package}` : "";
  collect(file, prefix, file.messageType, [4]);
  (file.enumType ?? []).forEach((e) => enums.set(`${prefix}.${e.name}`, e));
}

/** How a field is written in a query string or checked in a body. */
function kindOf(field) {
  if (field.label === "LABEL_REPEATED") return "repeated";
  switch (field.type) {
    case "TYPE_STRING":
      return "string";
    case "TYPE_BOOL":
      return "boolean";
    case "TYPE_ENUM":
      return "enum";
    case "TYPE_MESSAGE":
      return field.typeName === ".google.protobuf.Timestamp" ? "timestamp" : "message";
    case "TYPE_BYTES":
      return "bytes";
    default:
      return "integer";
  }
}

function schemaName(typeName) {
  return typeName
    .replace(/^\.jetflow\.v1\./, "")
    .replace(/^\./, "")
    .replaceAll(".", "_");
}

function fieldSchema(field) {
  const one = (() => {
    switch (field.type) {
      case "TYPE_STRING":
        return { type: "string" };
      case "TYPE_BOOL":
        return { type: "boolean" };
      case "TYPE_BYTES":
        return { type: "string", format: "byte" };
      case "TYPE_DOUBLE":
      case "TYPE_FLOAT":
        return { type: "number" };
      case "TYPE_INT64":
      case "TYPE_UINT64":
      case "TYPE_SINT64":
      case "TYPE_FIXED64":
      case "TYPE_SFIXED64":
        return { type: "integer", format: "int64" };
      case "TYPE_ENUM":
        return { $ref: `#/components/schemas/${schemaName(field.typeName)}` };
      case "TYPE_MESSAGE":
        return field.typeName === ".google.protobuf.Timestamp"
          ? { type: "string", format: "date-time" }
          : { $ref: `#/components/schemas/${schemaName(field.typeName)}` };
      default:
        return { type: "integer", format: "int32" };
    }
  })();
  return field.label === "LABEL_REPEATED" ? { type: "array", items: one } : one;
}

const schemas = {};
function addSchema(typeName) {
  const key = schemaName(typeName);
  if (key in schemas || typeName === ".google.protobuf.Timestamp") return;
  const e = enums.get(typeName);
  if (e) {
    schemas[key] = { type: "string", enum: e.value.map((v) => v.name) };
    return;
  }
  const m = messages.get(typeName);
  if (!m) throw new Error(`write-http-api: unknown type ${typeName}`);
  const properties = {};
  schemas[key] = { type: "object", ...(m.description ? { description: m.description } : {}), properties };
  for (const { field, description } of m.fields) {
    properties[field.jsonName] = { ...fieldSchema(field), ...(description ? { description } : {}) };
    if (field.typeName) addSchema(field.typeName);
  }
}

const service = image.file
  .flatMap((f) => (f.service ?? []).map((s, i) => ({ file: f, s, i, name: `${f.package}.${s.name}` })))
  .find((x) => x.name === SERVICE);
if (!service) throw new Error(`write-http-api: service ${SERVICE} not found`);

const routes = [];
const paths = {};
service.s.method.forEach((method, m) => {
  const rule = method.options?.["[google.api.http]"];
  if (!rule) throw new Error(`write-http-api: ${method.name} has no (google.api.http) option`);
  const verb = VERBS.find((v) => typeof rule[v] === "string");
  if (!verb)
    throw new Error(`write-http-api: ${method.name}: only get, put, post, delete and patch are supported`);
  const path = rule[verb];
  const body = rule.body ?? "";
  if (body !== "" && body !== "*")
    throw new Error(`write-http-api: ${method.name}: body must be "*" or empty`);
  const request = messages.get(method.inputType);
  const pathParams = [...path.matchAll(/\{([a-z_][a-z0-9_]*)\}/g)].map((match) => match[1]);
  const fields = request.fields.map(({ field, description }) => ({
    name: field.name,
    jsonName: field.jsonName,
    kind: kindOf(field),
    in: pathParams.includes(field.name) ? "path" : body === "*" ? "body" : "query",
    description,
  }));
  for (const param of pathParams) {
    if (!fields.some((f) => f.name === param))
      throw new Error(`write-http-api: ${method.name}: path field {${param}} is not in ${method.inputType}`);
  }
  const streaming = method.serverStreaming === true;
  routes.push({
    method: method.name,
    verb: verb.toUpperCase(),
    path,
    body,
    streaming,
    requestType: method.inputType.split(".").pop(),
    responseType: method.outputType.split(".").pop(),
    fields: fields.map((f) => ({ name: f.name, jsonName: f.jsonName, kind: f.kind, in: f.in })),
  });

  addSchema(method.inputType);
  addSchema(method.outputType);
  const openApiPath = path.replace(/\{([a-z_][a-z0-9_]*)\}/g, (_, name) => `{${name}}`);
  const parameters = fields
    .filter((f) => f.in !== "body")
    .map((f) => {
      const { field } = request.fields.find((x) => x.field.name === f.name);
      return {
        name: f.in === "path" ? f.name : f.jsonName,
        in: f.in,
        required: f.in === "path",
        schema: fieldSchema(field),
        ...(f.description ? { description: f.description } : {}),
      };
    });
  const description = comment(service.file, [6, service.i, 2, m]);
  const ok = streaming
    ? {
        description: `Server-Sent Events: one "message" event per ${schemaName(method.outputType)} (JSON), an "error" event with a Status on failure, then the stream ends`,
        content: {
          "text/event-stream": { schema: { $ref: `#/components/schemas/${schemaName(method.outputType)}` } },
        },
      }
    : {
        description: "OK",
        content: {
          "application/json": { schema: { $ref: `#/components/schemas/${schemaName(method.outputType)}` } },
        },
      };
  (paths[openApiPath] ??= {})[verb] = {
    operationId: method.name,
    ...(description ? { summary: description } : {}),
    tags: ["WorkflowService"],
    ...(parameters.length ? { parameters } : {}),
    ...(body === "*"
      ? {
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: { $ref: `#/components/schemas/${schemaName(method.inputType)}` },
              },
            },
          },
        }
      : {}),
    responses: {
      200: ok,
      default: {
        description: "An error: the gRPC status code, its message and details",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Status" } } },
      },
    },
  };
});

schemas.Status = {
  type: "object",
  description:
    "An error, as google.rpc.Status: the gRPC status code (3 INVALID_ARGUMENT, 5 NOT_FOUND, ...) and message",
  properties: {
    code: { type: "integer", format: "int32" },
    message: { type: "string" },
    details: { type: "array", items: { type: "object" } },
  },
  required: ["code", "message", "details"],
};
const sortedSchemas = Object.fromEntries(
  Object.keys(schemas)
    .sort()
    .map((k) => [k, schemas[k]]),
);

const openApi = {
  openapi: "3.0.3",
  info: {
    title: "jetflow WorkflowService",
    version: "v1",
    description:
      "The HTTP/JSON mapping of jetflow.v1.WorkflowService, generated from the (google.api.http) annotations of proto/.",
  },
  paths,
  components: { schemas: sortedSchemas },
};

const requestTypes = [...new Set(routes.flatMap((r) => [r.requestType, r.responseType]))].sort();
const lines = [
  "// Code generated by scripts/write-http-api.mjs from the (google.api.http) options of proto/. DO NOT EDIT.",
  "/* eslint-disable */",
  // The barrel, so that request and response messages may live in any file of the package.
  `import { ${requestTypes.join(", ")} } from "./index";`,
  "",
  "/** Where a request field of an HTTP route comes from, and how it is written there. */",
  "export interface HttpField {",
  "  /** The field's name in the .proto (snake_case); path templates use it. */",
  "  readonly name: string;",
  "  /** The field's JSON name (lowerCamelCase), as in bodies and query strings. */",
  "  readonly jsonName: string;",
  '  readonly kind: "string" | "integer" | "boolean" | "enum" | "timestamp" | "message" | "bytes" | "repeated";',
  '  readonly in: "path" | "query" | "body";',
  "}",
  "",
  "/** One WorkflowService method's HTTP route, from its (google.api.http) option. */",
  "export interface HttpRoute {",
  '  /** The gRPC method name, e.g. "StartExecution". */',
  "  readonly method: string;",
  '  readonly verb: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";',
  '  /** The path template, e.g. "/v1/executions/{execution_id}:stop". */',
  "  readonly path: string;",
  '  /** "*" when the body holds every field not bound by the path; "" for no body (the query holds them). */',
  "  readonly body: string;",
  "  /** True for a server-streaming method (served as Server-Sent Events). */",
  "  readonly streaming: boolean;",
  "  readonly fields: readonly HttpField[];",
  "  /** The request message: fromJSON reads the proto3 JSON mapping. */",
  "  readonly request: { fromJSON(object: any): unknown };",
  "  /** The response message: toJSON writes the proto3 JSON mapping. */",
  "  readonly response: { toJSON(message: any): unknown };",
  "}",
  "",
  "/** The HTTP route of every WorkflowService method, in the order of the .proto. */",
  "export const httpRoutes: readonly HttpRoute[] = [",
  ...routes.map(
    (r) =>
      `  { method: ${JSON.stringify(r.method)}, verb: ${JSON.stringify(r.verb)}, path: ${JSON.stringify(r.path)}, body: ${JSON.stringify(r.body)}, streaming: ${r.streaming}, request: ${r.requestType}, response: ${r.responseType}, fields: ${JSON.stringify(r.fields)} },`,
  ),
  "];",
  "",
  "/** The OpenAPI 3 document of the HTTP API. */",
  `export const openApiDocument: Readonly<Record<string, unknown>> = ${JSON.stringify(openApi, null, 2)};`,
  "",
];
writeFileSync(join(genDir, "http-api.ts"), lines.join("\n"));
