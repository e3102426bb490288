// Jest runs TypeScript through swc: fast, no type checking (that is `pnpm typecheck`'s job).
/** @type {import('jest').Config['transform']} */
const transform = {
  "^.+\\.ts$": [
    "@swc/jest",
    {
      jsc: { parser: { syntax: "typescript" }, target: "es2022" },
      module: { type: "commonjs" },
      sourceMaps: "inline",
    },
  ],
};

// Tests import packages by name and get their sources: no build needed before `pnpm test`.
// `@jetflow/engine/test-support` (the simulator) exists only for tests: it is not in any dist/.
const moduleNameMapper = {
  "^@jetflow/engine/test-support$": "<rootDir>/packages/engine/src/test-support",
  "^@jetflow/([a-z-]+)/internal$": "<rootDir>/packages/$1/src/internal",
  "^@jetflow/([a-z-]+)$": "<rootDir>/packages/$1/src",
};

const common = {
  rootDir: __dirname,
  transform,
  moduleNameMapper,
  testEnvironment: "node",
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration tests start real servers and services on a shared 2-core machine: generous bound.
  testTimeout: 120_000,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/{packages,services}/*/src/**/*.test.ts", "<rootDir>/examples/src/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: [
        "<rootDir>/{packages,services,bench}/*/test/**/*.int.test.ts",
        "<rootDir>/e2e/test/**/*.int.test.ts",
        "<rootDir>/bench/test/**/*.int.test.ts",
        "<rootDir>/deploy/test/**/*.int.test.ts",
        "<rootDir>/test/**/*.int.test.ts",
      ],
      slowTestThreshold: 30,
    },
  ],
};
