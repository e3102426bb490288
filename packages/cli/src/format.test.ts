import { ExecutionStatus } from "@jetflow/contracts";
import {
  formatDuration,
  isTerminal,
  parseStatus,
  previewJson,
  renderFields,
  renderTable,
  statusName,
  truncate,
} from "./format";
import { createStyle, stripAnsi, visibleWidth } from "./style";

const plain = createStyle(false);

it("names statuses and parses them in any case", () => {
  expect(statusName(ExecutionStatus.EXECUTION_STATUS_TIMED_OUT)).toBe("TIMED_OUT");
  expect(statusName(ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED)).toBe("UNKNOWN");
  expect(parseStatus("timed-out")).toBe(ExecutionStatus.EXECUTION_STATUS_TIMED_OUT);
  expect(parseStatus(" Failed ")).toBe(ExecutionStatus.EXECUTION_STATUS_FAILED);
  expect(parseStatus("done")).toBeUndefined();
  expect(isTerminal(ExecutionStatus.EXECUTION_STATUS_RUNNING)).toBe(false);
  expect(isTerminal(ExecutionStatus.EXECUTION_STATUS_ABORTED)).toBe(true);
});

it("formats durations for people", () => {
  expect(formatDuration(850)).toBe("850ms");
  expect(formatDuration(3_249)).toBe("3.2s");
  expect(formatDuration(245_000)).toBe("4m 05s");
  expect(formatDuration(7_380_000)).toBe("2h 03m");
  expect(formatDuration(273_600_000)).toBe("3d 04h");
  expect(formatDuration(-1)).toBe("-");
});

it("previews JSON on one line and cuts long text", () => {
  expect(previewJson('{\n  "a": [1, 2]\n}')).toBe('{"a":[1,2]}');
  expect(previewJson("not json")).toBe("not json");
  expect(truncate("abcdef", 4)).toBe("abc…");
  expect(truncate("abc", 4)).toBe("abc");
});

it("aligns table columns and field values, ignoring colour codes", () => {
  const style = createStyle(true);
  const table = renderTable(
    style,
    ["A", "BB"],
    [
      [style.green("xyz"), "1"],
      ["x", "22"],
    ],
  );
  expect(stripAnsi(table)).toBe("A    BB\nxyz  1\nx    22\n");
  expect(
    renderFields(plain, [
      ["Status", "OK"],
      ["Input", "{\n  }"],
    ]),
  ).toBe("Status  OK\nInput   {\n          }\n");
  expect(visibleWidth(style.red("✓ ok"))).toBe(4);
});
