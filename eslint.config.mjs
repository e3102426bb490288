// Lint rules chosen because each catches a real bug class in this codebase.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "packages/contracts/src/gen/**",
      "coverage/**",
      ".jetflow/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    // The console is browser code with its own tsconfig (DOM, JSX): the block below.
    ignores: ["packages/console/**"],
    languageOptions: {
      parserOptions: { project: ["./tsconfig.lint.json"], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    rules: {
      // An un-awaited publish or ack is a lost message.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-cycle": "error",
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@jetflow/*/src/*", "@jetflow/*/dist/*"],
              message: "import the package's public entry",
            },
            {
              group: ["**/services/*", "../../services/**"],
              message: "services share only contracts and NATS",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/console/src/**/*.ts", "packages/console/src/**/*.tsx"],
    ignores: ["**/*.test.ts"],
    languageOptions: {
      parserOptions: { project: ["./packages/console/tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // Libraries never write to the console: they take an injected logger.
    files: ["packages/**/src/**/*.ts"],
    ignores: ["packages/cli/**", "**/*.test.ts"],
    rules: { "no-console": "error" },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    languageOptions: {
      globals: {
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        process: "readonly",
        console: "readonly",
        URL: "readonly",
      },
    },
  },
  {
    // The contract worker is plain CommonJS JavaScript on purpose (a worker written from the
    // protocol alone): require() is its only import, and it uses Node's timers and Buffer.
    files: ["e2e/contract-worker/**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        exports: "writable",
        Buffer: "readonly",
        AbortController: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
