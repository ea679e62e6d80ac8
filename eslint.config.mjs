// Flat config: typescript-eslint's recommended rules, with `any` an error (STYLE.md: no `any`).
// Type-aware rules are left to `npm run typecheck` (tsc) to keep lint fast.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  globalIgnores(["dist/", "out/", "node_modules/", "src/harness/", ".vscode-test/", "test-results/"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The rooms rule of DESIGN.md: only src/extension.ts and src/vscode/ may import `vscode`.
    files: ["src/**/*.ts", "webview/**/*.ts"],
    ignores: ["src/extension.ts", "src/vscode/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "vscode", message: "Only src/extension.ts and src/vscode/ may import vscode (DESIGN.md rooms)." }] },
      ],
    },
  },
  {
    // src/core/ holds domain contracts and math and imports nothing of ours; presentation lives in src/views/.
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "vscode", message: "Only src/extension.ts and src/vscode/ may import vscode (DESIGN.md rooms)." }],
          patterns: [
            {
              group: ["**/views/*", "**/detect/*", "**/run/*", "**/vscode/*", "**/cli/*", "**/cli", "**/extension"],
              message: "src/core/ imports nothing of ours (DESIGN.md rooms); presentation code belongs in src/views/.",
            },
          ],
        },
      ],
    },
  },
  {
    // The webview pages may import only the message types in src/core/ (DESIGN.md rooms).
    files: ["webview/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "vscode", message: "Only src/extension.ts and src/vscode/ may import vscode (DESIGN.md rooms)." }],
          patterns: [{ group: ["../src/*", "!../src/core"], message: "webview/ may import only src/core/ (DESIGN.md rooms)." }],
        },
      ],
    },
  },
  {
    // Build and CI scripts run in Node as plain ES modules.
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: {
      globals: { console: "readonly", process: "readonly", URL: "readonly" },
    },
  },
);
