// A second set of Functions and Auth emulators with other params (e.g. App Check enforced),
// started through scripts/lib/firebase-emulators.mjs's CLI on free ports, against the suite's
// Firestore and R2 stand-in. It stops when stop() is called or when this process goes away
// (its stdin closes).
import { spawn } from "node:child_process";
import path from "node:path";
import type { Emulators } from "./emulator-client";

export interface ExtraEmulators {
  emulators: Emulators;
  stop(): Promise<void>;
}

const script = path.resolve(__dirname, "../../../scripts/lib/firebase-emulators.mjs");

export function startExtraEmulators(params: Record<string, string>): Promise<ExtraEmulators> {
  const env = {
    R2_ENDPOINT: process.env.R2_ENDPOINT ?? "",
    READ_MODE_CACHE_SECONDS: "1",
    ...params,
  };
  const child = spawn(process.execPath, [script, "--env", JSON.stringify(env)], {
    env: process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const line = output.split("\n").find((l) => l.startsWith("{") && l.includes('"functions"'));
      if (!line) return;
      child.stdout.off("data", onData);
      resolve({
        emulators: JSON.parse(line) as Emulators,
        stop: async () => {
          child.kill("SIGTERM");
          await exited;
        },
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += String(chunk)));
    void exited.then(() => reject(new Error(`extra emulators exited before ready:\n${output}`)));
  });
}
