import { UsageError } from "./errors";
import { readJsonArg } from "./json-arg";

const files: Record<string, string> = { "in.json": ' {"a": 1}\n', "bad.json": "{a" };
const readFile = (path: string) =>
  path in files
    ? Promise.resolve(files[path] as string)
    : Promise.reject(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }));

it("takes JSON text, @file or @- (standard input)", async () => {
  await expect(readJsonArg("--input", '{"b":2}', readFile)).resolves.toBe('{"b":2}');
  await expect(readJsonArg("--input", "@in.json", readFile)).resolves.toBe('{"a": 1}');
});

it("says which option or file is wrong", async () => {
  await expect(readJsonArg("--input", "{oops", readFile)).rejects.toThrow(
    new UsageError(
      '--input is not valid JSON at line 1, column 2: expected a property name in double quotes, found "o"',
    ),
  );
  await expect(readJsonArg("--output", "@bad.json", readFile)).rejects.toThrow(
    new UsageError(
      '--output file "bad.json" is not valid JSON at line 1, column 2: expected a property name in double quotes, found "a"',
    ),
  );
  await expect(readJsonArg("--input", "@missing.json", readFile)).rejects.toThrow(
    new UsageError('cannot read --input file "missing.json": no such file'),
  );
  await expect(readJsonArg("--input", "@", readFile)).rejects.toBeInstanceOf(UsageError);
});
