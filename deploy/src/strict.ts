/**
 * Unknown fields: the Kubernetes schemas allow them (the API server drops them, `kubectl` strict
 * validation refuses them), so a misspelt `readinesProbe` passes schema validation and silently
 * does nothing. This check types every object as its kubernetes-models interface with the
 * TypeScript compiler, whose excess-property check names each field no schema declares.
 */
import { dirname, join } from "node:path";
import ts from "typescript";
import { describeObject } from "./render";
import type { KubeObject } from "./render";
import type { Problem } from "./schema";

/** TypeScript's "Object literal may only specify known properties" (and its "did you mean" form). */
const EXCESS_PROPERTY = new Set([2353, 2561]);

interface Line {
  object: number;
  path: string;
}

/** Writes `value` as a TypeScript literal, one property per line, remembering each line's field. */
function literal(value: unknown, path: string, object: number, out: string[], lines: Line[]): void {
  const push = (text: string, at: string) => {
    out.push(text);
    lines.push({ object, path: at });
  };
  if (Array.isArray(value)) {
    push("[", path);
    value.forEach((item, i) => {
      literal(item, `${path}[${i}]`, object, out, lines);
      push(",", path);
    });
    push("]", path);
  } else if (value !== null && typeof value === "object") {
    push("{", path);
    for (const [key, item] of Object.entries(value)) {
      push(`${JSON.stringify(key)}:`, `${path}.${key}`);
      literal(item, `${path}.${key}`, object, out, lines);
      push(",", path);
    }
    push("}", path);
  } else {
    push(JSON.stringify(value) ?? "null", path);
  }
}

/** The module and interface of an object's kind: `apps/v1` `Deployment` → `kubernetes-models/apps/v1/Deployment`, `IDeployment`. */
function modelOf(object: KubeObject): { module: string; type: string } | undefined {
  const apiVersion = object.apiVersion ?? "";
  const kind = object.kind ?? "";
  if (!/^[a-z0-9.-]*\/?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) return undefined;
  return { module: `kubernetes-models/${apiVersion}/${kind}`, type: `I${kind}` };
}

/**
 * Reports every field of `objects` that its Kubernetes type does not declare. Objects of a kind
 * kubernetes-models does not know are left to the schema check, which reports them.
 */
export function checkUnknownFields(objects: readonly KubeObject[]): Problem[] {
  // The compiler reports one unknown field per top-level field of an object: drop what it found
  // and ask again, until it finds nothing more (a few passes at most).
  const copies = objects.map((o) => structuredClone(o));
  const problems: Problem[] = [];
  for (let pass = 0; pass < 10; pass++) {
    const found = unknownFields(copies);
    if (found.length === 0) break;
    for (const { index, path, problem } of found) {
      problems.push(problem);
      removeField(copies[index], path);
    }
  }
  return problems;
}

/** Deletes the field at `path` (`.spec.template.spec.containers[0].readinesProbe`). */
function removeField(object: unknown, path: string): void {
  const tokens = [...path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  const last = tokens.pop();
  let node: unknown = object;
  for (const token of tokens) node = (node as Record<string | number, unknown> | undefined)?.[token];
  if (node !== null && typeof node === "object" && last !== undefined) {
    delete (node as Record<string | number, unknown>)[last];
  }
}

interface Found {
  index: number;
  path: string;
  problem: Problem;
}

function unknownFields(objects: readonly KubeObject[]): Found[] {
  const out: string[] = [];
  const lines: Line[] = [];
  const known: number[] = [];
  const modelsDir = dirname(require.resolve("kubernetes-models/package.json", { paths: [__dirname] }));
  objects.forEach((object, i) => {
    const model = modelOf(object);
    if (model === undefined) return;
    const file = join(modelsDir, `${model.module.replace("kubernetes-models/", "")}.d.ts`);
    if (!ts.sys.fileExists(file)) return;
    known.push(i);
    const first = out.length;
    out.push(`import type { ${model.type} as T${i} } from ${JSON.stringify(model.module)};`);
    lines.push({ object: i, path: "" });
    out.push(`export const o${i}: T${i} =`);
    lines.push({ object: i, path: "" });
    literal(object, "", i, out, lines);
    out.push(";");
    lines.push({ object: i, path: "" });
    if (out.length - first !== lines.length - first) throw new Error("line bookkeeping is off");
  });
  if (known.length === 0) return [];

  // A virtual ES module next to this package, so that kubernetes-models resolves from here.
  const fileName = join(__dirname, "__manifests__.mts");
  const source = out.join("\n");
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === fileName || ts.sys.fileExists(name);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) =>
    name === fileName
      ? ts.createSourceFile(name, source, languageVersion, true)
      : getSourceFile(name, languageVersion, onError, shouldCreate);
  const program = ts.createProgram([fileName], options, host);
  const problems: Found[] = [];
  const seen = new Set<string>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) continue;
    if (!EXCESS_PROPERTY.has(diagnostic.code)) continue;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const at = lines[line];
    const object = at === undefined ? undefined : objects[at.object];
    if (at === undefined || object === undefined) continue;
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    const type = /in type '(?:I?IoK8s[A-Za-z]*?V\d\w*?)?I?([A-Za-z]+)'/.exec(text)?.[1];
    const hint = /Did you mean to write '([^']+)'/.exec(text)?.[1];
    const key = `${at.object}${at.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({
      index: at.object,
      path: at.path,
      problem: {
        object: describeObject(object),
        field: at.path,
        message: `is not a field of ${type ?? "its type"}${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      },
    });
  }
  return problems;
}
