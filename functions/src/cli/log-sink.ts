/**
 * Imported first by cli/migrate.ts. When the CLI runs as a program, the structured log lines
 * (firebase-functions/logger writes them through the console, whose methods it captures when
 * it is first loaded — hence "first") go to a JSON-lines file instead of mixing with the
 * progress bar: one line per batch (`migration batch done`) and per problem. `--verbose`
 * keeps them on the terminal; `--log-file PATH` picks the file.
 */
import { createWriteStream } from "node:fs";
import { format } from "node:util";

function flagValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const inline = argv.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

export const logFile: string | null = (() => {
  const main = require.main?.filename ?? "";
  if (!/cli[\\/]migrate\.js$/.test(main) || process.argv.includes("--verbose")) return null;
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) return null;
  const file =
    flagValue(argv, "--log-file") ??
    `migrate-${new Date().toISOString().replace(/[-:.]/g, "")}.jsonl`;
  const stream = createWriteStream(file, { flags: "a" });
  const write = (...args: unknown[]) => {
    stream.write(`${format(...args)}\n`);
  };
  console.debug = write;
  console.info = write;
  console.log = write;
  console.warn = write;
  console.error = write;
  return file;
})();
