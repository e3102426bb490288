import { findJsonSyntaxError } from "./json-syntax";

it("finds nothing wrong in valid JSON", () => {
  for (const text of ['{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"]}', " 42 ", '""', "[]", "{}"]) {
    expect(findJsonSyntaxError(text)).toBeUndefined();
  }
});

it("points at the first character that is not JSON, by line and column", () => {
  expect(findJsonSyntaxError('{\n  "a": 1,\n  "b": x\n}')).toEqual({
    message: 'expected a value, found "x"',
    line: 3,
    column: 8,
  });
  expect(findJsonSyntaxError("{broken")).toEqual({
    message: 'expected a property name in double quotes, found "b"',
    line: 1,
    column: 2,
  });
  expect(findJsonSyntaxError('{"a": 1')).toEqual({
    message: 'expected "," or "}", the text ends',
    line: 1,
    column: 8,
  });
  expect(findJsonSyntaxError("[1, 2,]")).toEqual({
    message: 'expected a value, found "]"',
    line: 1,
    column: 7,
  });
  expect(findJsonSyntaxError("[1] [2]")).toEqual({
    message: 'expected the end of the text, found "["',
    line: 1,
    column: 5,
  });
  expect(findJsonSyntaxError('{"a" 1}')).toMatchObject({
    message: `expected ":" after the property name, found "1"`,
  });
  expect(findJsonSyntaxError('"bad \\x escape"')).toMatchObject({ line: 1, column: 6 });
  expect(findJsonSyntaxError('["a\tb"]')).toEqual({
    message: 'expected a valid string, found "\\t"',
    line: 1,
    column: 4,
  });
  expect(findJsonSyntaxError('"open')).toMatchObject({ message: "expected a valid string, the text ends" });
  expect(findJsonSyntaxError("")).toMatchObject({ message: "expected a value, the text ends", column: 1 });
});
