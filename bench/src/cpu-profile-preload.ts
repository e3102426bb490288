/**
 * What `node --cpu-prof` does, for processes whose command line the benchmark does not control
 * (Node 20 refuses `--cpu-prof` in NODE_OPTIONS but accepts `--require`): loaded with
 * `NODE_OPTIONS=--require <this file>`, it starts the V8 CPU profiler at once and writes a
 * `.cpuprofile` into `BENCH_CPU_PROF_DIR` when the process exits, named like node's own
 * (`CPU.<date>.<time>.<pid>.0.001.cpuprofile`).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir !== undefined && dir !== "") {
  const session = new Session();
  session.connect();
  // 1 ms would cost the profiled process noticeably more; node's default interval is 1000 µs too.
  session.post("Profiler.enable", () =>
    session.post("Profiler.setSamplingInterval", { interval: 1000 }, () => session.post("Profiler.start")),
  );
  process.once("exit", () => {
    // In-process inspector sessions dispatch synchronously, so this completes before the exit.
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      const now = new Date();
      const date = now.toISOString().slice(0, 10).replace(/-/g, "");
      const time = now.toISOString().slice(11, 19).replace(/:/g, "");
      writeFileSync(
        join(dir, `CPU.${date}.${time}.${process.pid}.0.001.cpuprofile`),
        JSON.stringify(result.profile),
      );
    });
  });
}
