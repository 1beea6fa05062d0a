// The suite runs on the Node the functions deploy on (functions/package.json `engines.node`,
// firebase.json `runtime: nodejs22`): `npm test` starts it through scripts/node22.mjs, which
// brings Node 22 from the npm registry on a machine that has another one.
import { readFileSync } from "node:fs";
import path from "node:path";

const functionsDir = path.resolve(__dirname, "../..");

test("the tests run on the deploy runtime's Node major version", () => {
  const pkg = JSON.parse(readFileSync(path.join(functionsDir, "package.json"), "utf8")) as {
    engines: { node: string };
  };
  const firebase = JSON.parse(
    readFileSync(path.join(functionsDir, "..", "firebase.json"), "utf8"),
  ) as { functions: { runtime: string }[] };
  expect(firebase.functions[0]?.runtime).toBe(`nodejs${pkg.engines.node}`);
  expect(process.versions.node.split(".")[0]).toBe(pkg.engines.node);
});
