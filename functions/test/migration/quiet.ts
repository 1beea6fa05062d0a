// Every migration problem is logged as a warning by design; keep test output readable
// (CLIPSTORE_VERBOSE=1 shows them).
import "../support/quiet-logs";

if (process.env.CLIPSTORE_VERBOSE !== "1") {
  console.warn = () => undefined;
  console.error = () => undefined;
}
