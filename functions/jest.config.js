/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }] },
  testTimeout: 60000,
  maxWorkers: 2,
  setupFiles: ["<rootDir>/test/support/quiet-logs.ts"],
};
